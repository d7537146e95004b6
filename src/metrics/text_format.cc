#include "metrics/text_format.h"

#include <charconv>
#include <cmath>

namespace sas::metrics {

void AppendHeader(std::string& out, std::string_view name,
                  std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    // Whole numbers as integers: shortest-form printing would turn a
    // timestamp like 1699000000 into 1.699e+09.
    AppendInteger(out, static_cast<int64_t>(value));
  } else {
    char buffer[64];
    double magnitude = std::fabs(value);
    auto format = magnitude >= 1e-6 && magnitude < 1e15
                      ? std::chars_format::fixed
                      : std::chars_format::general;
    auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof(buffer), value, format);
    out.append(buffer, end);
  }
}

void AppendInteger(std::string& out, int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

}  // namespace sas::metrics
