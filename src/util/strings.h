#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sas {

// Lowercase hex of the bytes.
std::string HexEncode(std::string_view bytes);
std::string ToLower(std::string_view text);
std::string_view Trim(std::string_view text);
bool StartsWith(std::string_view text, std::string_view prefix);
std::vector<std::string> Split(std::string_view text, char separator);

// Levenshtein edit distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate nearest to word, or "" when none is close enough to help.
std::string NearestWord(std::string_view word,
                        const std::vector<std::string_view>& candidates);

// Appends text as a JSON string literal (quotes included), escaping as
// RFC 8259 requires. Invalid UTF-8 bytes pass through unchanged.
void AppendJsonString(std::string& out, std::string_view text);

// Escapes <, >, &, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace sas
