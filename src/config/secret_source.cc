#include "config/secret_source.h"

#include "util/strings.h"

namespace sas::config {
namespace {

constexpr size_t kMaxSecretFileBytes = 1 << 20;

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

SecretLookup Fail(std::string error) {
  return {std::nullopt, std::move(error)};
}

}  // namespace

SecretLookup ResolveSecret(SecretOrigin origin, const std::string& reference,
                           const Environment& env, const FileSystem& files) {
  switch (origin) {
    case SecretOrigin::kLiteral:
      if (reference.empty()) return Fail("must not be empty");
      if (HasControlCharacter(reference)) {
        return Fail("contains a line break or another control character");
      }
      return {reference, ""};

    case SecretOrigin::kEnvironment: {
      if (reference.empty()) {
        return Fail("must name an environment variable, not \"\"");
      }
      std::optional<std::string> value = env.Get(reference);
      if (!value) {
        return Fail("environment variable " + reference + " is not set");
      }
      if (value->empty()) {
        return Fail("environment variable " + reference + " is empty");
      }
      if (HasControlCharacter(*value)) {
        return Fail("environment variable " + reference +
                    " contains a line break or another control character");
      }
      return {std::move(value), ""};
    }

    case SecretOrigin::kFile: {
      if (reference.empty()) return Fail("must name a file, not \"\"");
      FileReadResult read = files.ReadFile(reference, kMaxSecretFileBytes);
      if (!read.ok) {
        return Fail("cannot read " + Quoted(reference) + ": " + read.error);
      }
      std::string value(Trim(read.content));
      if (value.empty()) return Fail("file " + Quoted(reference) + " is empty");
      if (HasControlCharacter(value)) {
        return Fail("file " + Quoted(reference) +
                    " contains more than one line or a control character");
      }
      return {std::move(value), ""};
    }
  }
  return Fail("unknown secret origin");
}

}  // namespace sas::config
