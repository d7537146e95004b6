#include "util/clock.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace sas {
namespace {

class SystemClock : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  SteadyTime SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace

Clock& RealClock() {
  static SystemClock clock;
  return clock;
}

std::string FormatIso8601(WallTime t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

bool ParseIso8601(std::string_view text, WallTime* out) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return false;
  }
  auto number = [&](size_t pos, size_t len, int* value) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *value = v;
    return true;
  };
  std::tm tm{};
  int year, month, day, hour, minute, second;
  if (!number(0, 4, &year) || !number(5, 2, &month) || !number(8, 2, &day) ||
      !number(11, 2, &hour) || !number(14, 2, &minute) ||
      !number(17, 2, &second)) {
    return false;
  }
  constexpr int kMinYear = 1970, kMaxYear = 2199;
  if (year < kMinYear || year > kMaxYear || month < 1 || month > 12 ||
      hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days = kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day < 1 || day > days) return false;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  // A leap second, 2199-12-31T23:59:60Z, is one past the range's end.
  int64_t seconds = timegm(&tm);
  if (seconds > kMaxUnixSeconds) return false;
  *out = WallTime(std::chrono::seconds(seconds));
  return true;
}

std::optional<WallTime> WallTimeFromUnixSeconds(double seconds) {
  // The comparisons are false for NaN.
  if (!(seconds >= static_cast<double>(kMinUnixSeconds) &&
        seconds <= static_cast<double>(kMaxUnixSeconds))) {
    return std::nullopt;
  }
  return WallTime(std::chrono::milliseconds(std::llround(seconds * 1000)));
}

double ToUnixSeconds(WallTime t) {
  // Whole milliseconds first: dividing nanoseconds as a double would print
  // 1700000000.25 as 1700000000.2499998.
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                t.time_since_epoch())
                .count();
  return static_cast<double>(ms) / 1000.0;
}

}  // namespace sas
