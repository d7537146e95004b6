#include "aliyun/json_body.h"

#include <nlohmann/json.hpp>

#include "aliyun/response.h"
#include "util/strings.h"

namespace sas::aliyun {
namespace {

// Deeper documents are refused before parsing; real answers have depth 1-2.
constexpr int kMaxJsonDepth = 64;

// True when no array or object in text (assumed JSON) nests deeper than
// kMaxJsonDepth. Brackets inside strings are skipped.
bool NestingWithinLimit(std::string_view text) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      i = JsonStringEnd(text, i);
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::optional<nlohmann::json> ParseJsonObject(std::string_view text,
                                              std::string_view noun,
                                              std::string* why) {
  std::string name(noun);
  if (text.size() > kMaxResponseBytes) {
    *why = name + " of " + std::to_string(text.size()) +
           " bytes exceeds the limit of " + std::to_string(kMaxResponseBytes);
    return std::nullopt;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    *why = "empty " + name;
    return std::nullopt;
  }
  if (!NestingWithinLimit(text)) {
    *why = name + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth);
    return std::nullopt;
  }
  nlohmann::json document =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    *why = name + " is not valid JSON";
    return std::nullopt;
  }
  if (!document.is_object()) {
    *why = name + ": expected a JSON object, got " + document.type_name();
    return std::nullopt;
  }
  return document;
}

std::string JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "non-integer number";
    default:
      return value.type_name();
  }
}

}  // namespace sas::aliyun
