#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "util/clock.h"
#include "util/sleeper.h"

namespace sas::testing {

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

// Advances a FakeClock instead of waiting, and records every wait; never
// stopped. Thread-safe.
class FakeSleeper : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock& clock) : clock_(clock) {}
  bool SleepUntil(SteadyTime until) override;
  // The durations slept, in order.
  std::vector<std::chrono::nanoseconds> sleeps() const;

 private:
  FakeClock& clock_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::vector<std::chrono::nanoseconds> sleeps_;
};

}  // namespace sas::testing
