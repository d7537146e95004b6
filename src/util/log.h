#pragma once

#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

// Structured logging to stderr, logfmt (default) or JSON, one line per event:
//   ts=2026-11-27T10:00:00.000Z level=info msg="Polling started" tasks=3
// Thread-safe. Callers never pass secrets: log codes and identifiers, not
// credentials, tokens or download links.
namespace sas::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kLogfmt, kJson };

struct Field {
  std::string_view key;
  std::string value;
};

std::optional<Level> ParseLevel(std::string_view text);
std::optional<Format> ParseFormat(std::string_view text);

// Sets the minimum level, the format and the sink (default: std::cerr).
void Configure(Level level, Format format, std::ostream* sink = nullptr);
bool Enabled(Level level);
void Write(Level level, std::string_view msg,
           std::initializer_list<Field> fields = {});

inline void Debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, f);
}
inline void Info(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, msg, f);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, msg, f);
}
inline void Error(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kError, msg, f);
}

// One formatted line without the trailing newline; exposed for tests.
std::string FormatLine(Format format, std::string_view timestamp, Level level,
                       std::string_view msg,
                       std::initializer_list<Field> fields);

}  // namespace sas::log
