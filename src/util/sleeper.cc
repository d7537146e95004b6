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

}  // namespace sas
