#include "util/sleeper.h"

namespace sas {

bool InterruptibleSleeper::SleepUntil(SteadyTime until) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, until, [this] { return stopped_; });
  return !stopped_;
}

void InterruptibleSleeper::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
}

bool InterruptibleSleeper::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
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

}  // namespace sas
