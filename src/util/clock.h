#pragma once

#include <chrono>
#include <mutex>
#include <string>

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

// A clock that moves only when told to. Both readings advance together.
// Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(
      WallTime start = WallTime(std::chrono::seconds(1700000000)));
  WallTime Now() const override;
  SteadyTime SteadyNow() const override;
  void Advance(std::chrono::nanoseconds by);

 private:
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  WallTime wall_;
  SteadyTime steady_;
};

// "2023-10-26T10:22:32Z": the format of x-acs-date, Timestamp and Expiration.
std::string FormatIso8601(WallTime t);
// Parses "yyyy-MM-ddTHH:mm:ssZ" (UTC). Returns false on anything else.
bool ParseIso8601(std::string_view text, WallTime* out);

// Seconds since the Unix epoch, to the millisecond.
double ToUnixSeconds(WallTime t);

}  // namespace sas
