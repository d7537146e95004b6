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

// Decodes %XX escapes (either case of hex digit) in one URL path segment or
// query value into *out; every other byte is copied unchanged ('+' stays
// '+'). False, with *out unspecified, when a '%' is not followed by two hex
// digits. The result may hold any byte, '/' and NUL included: callers split
// a path into segments before decoding them.
bool PercentDecode(std::string_view text, std::string* out);

// True when text is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

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
