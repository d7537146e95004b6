#include "fuzz_support.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace sas::fuzz {

void CheckFailed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, file, line);
  std::abort();
}

uint8_t InputReader::Byte() {
  if (rest_.empty()) return 0;
  uint8_t byte = static_cast<uint8_t>(rest_.front());
  rest_.remove_prefix(1);
  return byte;
}

std::string_view InputReader::Until(char separator) {
  size_t end = rest_.find(separator);
  std::string_view part = rest_.substr(0, end);
  rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
  return part;
}

std::string_view InputReader::Rest() {
  std::string_view part = rest_;
  rest_ = {};
  return part;
}

bool HasNoControlCharacters(std::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  return true;
}

namespace {

// Replaces the values WithCanaries names; true when it replaced any.
bool ReplaceSecrets(nlohmann::json& value,
                    const std::vector<std::string>& keys) {
  bool replaced = false;
  if (value.is_object()) {
    for (auto& [key, member] : value.items()) {
      if (member.is_string() &&
          std::find(keys.begin(), keys.end(), key) != keys.end() &&
          !Trim(member.get_ref<const std::string&>()).empty()) {
        member = std::string(kCanary);
        replaced = true;
      } else {
        replaced = ReplaceSecrets(member, keys) || replaced;
      }
    }
  } else if (value.is_array()) {
    for (nlohmann::json& item : value) {
      replaced = ReplaceSecrets(item, keys) || replaced;
    }
  }
  return replaced;
}

}  // namespace

std::optional<std::string> WithCanaries(std::string_view json_text,
                                        const std::vector<std::string>& keys) {
  nlohmann::json document =
      nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !ReplaceSecrets(document, keys)) {
    return std::nullopt;
  }
  return document.dump();
}

}  // namespace sas::fuzz
