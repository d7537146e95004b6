#pragma once

#include <string>
#include <string_view>

// Low-level writers for the Prometheus text exposition format 0.0.4.
namespace sas::metrics {

inline constexpr std::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// "# HELP name help\n# TYPE name type\n" (help escaped as the format says).
void AppendHeader(std::string& out, std::string_view name,
                  std::string_view help, std::string_view type);
// A label value with \, " and newline escaped (no quotes added).
void AppendLabelValue(std::string& out, std::string_view value);
// The shortest text that reads back as exactly `value`; NaN and infinities
// as the format spells them.
void AppendValue(std::string& out, double value);
void AppendInteger(std::string& out, int64_t value);

}  // namespace sas::metrics
