#include "support/fake_clock.h"

namespace sas::testing {

FakeClock::FakeClock(WallTime start)
    : wall_(start), steady_(SteadyTime(std::chrono::hours(1))) {}

WallTime FakeClock::Now() const {
  std::lock_guard lock(mutex_);
  return wall_;
}

SteadyTime FakeClock::SteadyNow() const {
  std::lock_guard lock(mutex_);
  return steady_;
}

void FakeClock::Advance(std::chrono::nanoseconds by) {
  std::lock_guard lock(mutex_);
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
  steady_ +=
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(by);
}

bool FakeSleeper::SleepUntil(SteadyTime until) {
  auto now = clock_.SteadyNow();
  auto duration = until > now ? until - now : std::chrono::nanoseconds(0);
  {
    std::lock_guard lock(mutex_);
    sleeps_.push_back(duration);
  }
  clock_.Advance(duration);
  return true;
}

std::vector<std::chrono::nanoseconds> FakeSleeper::sleeps() const {
  std::lock_guard lock(mutex_);
  return sleeps_;
}

}  // namespace sas::testing
