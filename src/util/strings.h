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

// Levenshtein edit distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate nearest to word, or "" when none is close enough to help.
std::string NearestWord(std::string_view word,
                        const std::vector<std::string_view>& candidates);

// The length of the well-formed UTF-8 sequence (RFC 3629: shortest form, no
// surrogates, at most U+10FFFF) that starts at text[pos], or 0 when none
// does. pos < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t pos);
// True when text is well-formed UTF-8 in the same sense.
bool IsValidUtf8(std::string_view text);

// "" when text is valid UTF-8 without control characters (U+0000..U+001F,
// U+007F); otherwise what is wrong and where, for a message that names the
// field first: "contains control character U+000A at byte 4", "is not
// valid UTF-8 (byte 0xFF at byte 0)". Never quotes the text itself.
std::string UnprintableTextProblem(std::string_view text);

// text with every control character and every byte that is not part of
// valid UTF-8 replaced by U+FFFD, cut at a character boundary to at most
// max_bytes: safe for a label value or a page, whatever a peer sent.
std::string PrintableText(std::string_view text, size_t max_bytes);

enum class QuoteStyle {
  // A JSON string literal (RFC 8259).
  kJson,
  // A logfmt value in Go's strconv.Quote spelling.
  kLogfmt,
};

// Appends text double-quoted (quotes included) so that no control character
// and no invalid UTF-8 reaches `out`. Both styles write \", \\, \n, \r
// and \t. Other control characters and DEL: \u00XX (JSON) or \xXX
// (logfmt). A byte that is not part of valid UTF-8: \xXX in logfmt; in
// JSON, which has no byte escape, an escaped backslash followed by xXX, so
// the value reads back as the four characters \xXX. Valid UTF-8 otherwise
// passes unchanged.
void AppendQuoted(std::string& out, std::string_view text, QuoteStyle style);

// AppendQuoted(out, text, QuoteStyle::kJson).
void AppendJsonString(std::string& out, std::string_view text);

// The offset of the quote that closes the JSON string literal opening at
// text[open] (a '"'), backslash escapes skipped; text.size() when the
// literal is not closed. Lets scanners of JSON text step over strings.
size_t JsonStringEnd(std::string_view text, size_t open);

// Escapes <, >, &, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace sas
