#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sas::aliyun {

// Parses an HTTP answer that must be one JSON object: at most 1 MiB
// (kMaxResponseBytes), nested at most 64 deep (checked before parsing), never
// throwing. nullopt with *why on anything else; `noun` names the text in
// the message ("body is not valid JSON", "STS answer: expected a JSON
// object, got array"), which never quotes the text itself.
// The JSON type of value for a message: "integer", "non-integer number",
// "string", "object", ...
std::string JsonTypeName(const nlohmann::json& value);

std::optional<nlohmann::json> ParseJsonObject(std::string_view text,
                                              std::string_view noun,
                                              std::string* why);

}  // namespace sas::aliyun
