#pragma once

// Helpers the fuzz targets share: checks of what every parser promises
// about the text it hands back, and ways to cut one input into several.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.h"

namespace sas::fuzz {

// Reads an input from the front: single bytes, then text up to a separator.
class InputReader {
 public:
  InputReader(const uint8_t* data, size_t size) : rest_(AsText(data, size)) {}
  // The next byte, or 0 when none is left.
  uint8_t Byte();
  // The text up to the next `separator` (consumed, not returned), or all
  // that is left when there is none.
  std::string_view Until(char separator);
  // All that is left.
  std::string_view Rest();
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// True when text holds no control character (U+0000..U+001F, U+007F): what
// a message or a value that reaches a log line or a label may not carry.
bool HasNoControlCharacters(std::string_view text);

// What a parser must never quote (a secret, a token, a value) is replaced
// by this before the input is parsed a second time; the message of that
// parse must not contain it. A canary rather than the value itself, which a
// message may well contain for other reasons ("tials lacks" is a valid
// SecurityToken).
inline constexpr std::string_view kCanary = "CANARY-f3a9c1";

// json_text with the non-blank string value of every member named one of
// `keys`, at any depth, replaced by kCanary; nullopt when json_text is not
// JSON or has no such value. Blank values stay, so the parse takes the
// same way (a blank secret is refused as blank).
std::optional<std::string> WithCanaries(std::string_view json_text,
                                        const std::vector<std::string>& keys);
}  // namespace sas::fuzz
