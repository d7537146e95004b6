#include "util/duration.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace sas {
namespace {

constexpr int64_t kMillisPerMinute = 60'000;
constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;

}  // namespace

std::optional<Millis> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool seen_dot = false;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') ||
                               (text[i] == '.' && !seen_dot))) {
      if (text[i] == '.') seen_dot = true;
      ++i;
    }
    std::string_view digits = text.substr(start, i - start);
    if (digits.empty() || digits == ".") return std::nullopt;
    // from_chars: locale-independent, and no exception on huge numbers.
    double value = 0;
    auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    double unit_ms;
    if (text.substr(i, 2) == "ms") {
      unit_ms = 1;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unit_ms = 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit_ms = kMillisPerMinute;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unit_ms = kMillisPerHour;
      ++i;
    } else {
      return std::nullopt;
    }
    total_ms += value * unit_ms;
  }
  // About 292,000 years: far beyond any sane setting, and safe from overflow.
  if (!(total_ms <= 9.2e15)) return std::nullopt;
  return Millis(static_cast<int64_t>(std::llround(total_ms)));
}

std::string FormatDuration(Millis d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t hours = ms / kMillisPerHour;
  ms %= kMillisPerHour;
  int64_t minutes = ms / kMillisPerMinute;
  ms %= kMillisPerMinute;
  if (hours) out += std::to_string(hours) + "h";
  if (minutes) out += std::to_string(minutes) + "m";
  if (ms) {
    if (ms % 1000 == 0) {
      out += std::to_string(ms / 1000) + "s";
    } else {
      std::string fraction = std::to_string(1000 + ms % 1000).substr(1);
      while (fraction.back() == '0') fraction.pop_back();
      out += std::to_string(ms / 1000) + "." + fraction + "s";
    }
  }
  return out;
}

}  // namespace sas
