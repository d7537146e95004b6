#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sas {

using Millis = std::chrono::milliseconds;

// Parses a Go-style duration: one or more <number><unit> groups with units
// "ms", "s", "m", "h" ("500ms", "30s", "1h30m", "1.5h"). No sign, no spaces.
// Returns nullopt for anything else, including an empty string.
std::optional<Millis> ParseDuration(std::string_view text);

// The shortest Go-style spelling of d: "1h30m", "500ms", "0s".
std::string FormatDuration(Millis d);

}  // namespace sas
