#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace sas {

using WallTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

// The clock seam: production code reads time only through a Clock so that
// signatures, deadlines and timestamps are exact in tests. Implementations
// are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: request dates, exposed timestamps.
  virtual WallTime Now() const = 0;
  // Monotonic time: intervals, deadlines, rate limits.
  virtual SteadyTime SteadyNow() const = 0;
};

// The process-wide real clock.
Clock& RealClock();

// The wall-clock times accepted from outside the process (task created_at,
// the state file, credential Expiration, request dates): Unix seconds
// kMinUnixSeconds (1970-01-01T00:00:00Z) through kMaxUnixSeconds
// (2199-12-31T23:59:59Z), both included. Far inside what WallTime holds
// (nanoseconds, about 1677..2262), so arithmetic on them cannot overflow.
// Every number or date from outside becomes a WallTime through
// WallTimeFromUnixSeconds or ParseIso8601, which enforce it.
inline constexpr int64_t kMinUnixSeconds = 0;
inline constexpr int64_t kMaxUnixSeconds = 7'258'118'399;
// The range for messages: "1970-01-01T00:00:00Z..2199-12-31T23:59:59Z".
inline constexpr std::string_view kWallTimeRangeText =
    "1970-01-01T00:00:00Z..2199-12-31T23:59:59Z";

// The WallTime `seconds` Unix seconds name, rounded to the millisecond;
// nullopt when seconds is outside [kMinUnixSeconds, kMaxUnixSeconds] or not
// a number (NaN, infinity).
std::optional<WallTime> WallTimeFromUnixSeconds(double seconds);

// "2023-10-26T10:22:32Z": the format of x-acs-date, Timestamp and Expiration.
std::string FormatIso8601(WallTime t);
// Parses "yyyy-MM-ddTHH:mm:ssZ" (UTC) within kWallTimeRangeText. Returns
// false, leaving *out untouched, on anything else.
bool ParseIso8601(std::string_view text, WallTime* out);

// Seconds since the Unix epoch, to the millisecond.
double ToUnixSeconds(WallTime t);

// d in nanoseconds, held at the nanosecond limits instead of overflowing.
constexpr std::chrono::nanoseconds SaturatingNanos(
    std::chrono::milliseconds d) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 1'000'000;
  if (d.count() > kMax) return std::chrono::nanoseconds::max();
  if (d.count() < -kMax) return std::chrono::nanoseconds::min();
  return d;
}

// t + d, held at the clock's limits instead of overflowing: safe for any d,
// including one that came from outside unchecked. TimePoint counts
// nanoseconds (WallTime, SteadyTime).
template <typename TimePoint>
TimePoint SaturatingAdd(TimePoint t, std::chrono::nanoseconds d) {
  using Duration = typename TimePoint::duration;
  static_assert(std::is_same_v<Duration, std::chrono::nanoseconds>);
  int64_t sum;
  if (__builtin_add_overflow(t.time_since_epoch().count(), d.count(), &sum)) {
    sum = d.count() > 0 ? std::numeric_limits<int64_t>::max()
                        : std::numeric_limits<int64_t>::min();
  }
  return TimePoint(Duration(sum));
}
template <typename TimePoint>
TimePoint SaturatingAdd(TimePoint t, std::chrono::milliseconds d) {
  return SaturatingAdd(t, SaturatingNanos(d));
}

}  // namespace sas
