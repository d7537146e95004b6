#include "util/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>

#include "util/strings.h"

namespace sas::log {
namespace {

struct State {
  std::mutex mutex;
  Level level = Level::kInfo;
  Format format = Format::kLogfmt;
  std::ostream* sink = &std::cerr;
};

State& GetState() {
  static State state;
  return state;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

// Bare when the value has no character that logfmt or AppendQuoted treats
// specially; quoted and escaped otherwise.
void AppendLogfmtValue(std::string& out, std::string_view value) {
  bool bare = !value.empty() && IsValidUtf8(value);
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      bare = false;
    }
  }
  if (bare) {
    out += value;
  } else {
    AppendQuoted(out, value, QuoteStyle::kLogfmt);
  }
}

std::string NowTimestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                now.time_since_epoch())
                .count() %
            1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof(buffer) - n, ".%03dZ", static_cast<int>(ms));
  return buffer;
}

}  // namespace

std::optional<Level> ParseLevel(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn") return Level::kWarn;
  if (text == "error") return Level::kError;
  return std::nullopt;
}

std::optional<Format> ParseFormat(std::string_view text) {
  if (text == "logfmt") return Format::kLogfmt;
  if (text == "json") return Format::kJson;
  return std::nullopt;
}

void Configure(Level level, Format format, std::ostream* sink) {
  State& state = GetState();
  std::lock_guard lock(state.mutex);
  state.level = level;
  state.format = format;
  state.sink = sink != nullptr ? sink : &std::cerr;
}

bool Enabled(Level level) {
  State& state = GetState();
  std::lock_guard lock(state.mutex);
  return level >= state.level;
}

std::string FormatLine(Format format, std::string_view timestamp, Level level,
                       std::string_view msg,
                       std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  if (format == Format::kJson) {
    line += "{\"ts\":\"";
    line += timestamp;
    line += "\",\"level\":\"";
    line += LevelName(level);
    line += "\",\"msg\":";
    AppendJsonString(line, msg);
    for (const Field& field : fields) {
      line += ',';
      AppendJsonString(line, field.key);
      line += ':';
      AppendJsonString(line, field.value);
    }
    line += '}';
    return line;
  }
  line += "ts=";
  line += timestamp;
  line += " level=";
  line += LevelName(level);
  line += " msg=";
  AppendLogfmtValue(line, msg);
  for (const Field& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    AppendLogfmtValue(line, field.value);
  }
  return line;
}

void Write(Level level, std::string_view msg,
           std::initializer_list<Field> fields) {
  State& state = GetState();
  std::lock_guard lock(state.mutex);
  if (level < state.level) return;
  std::string line =
      FormatLine(state.format, NowTimestamp(), level, msg, fields);
  line += '\n';
  state.sink->write(line.data(), static_cast<std::streamsize>(line.size()));
  state.sink->flush();
}

}  // namespace sas::log
