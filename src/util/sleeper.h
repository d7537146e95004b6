#pragma once

#include <condition_variable>
#include <mutex>

#include "util/clock.h"

namespace sas {

// The waiting seam: backoff and rate-limit waits go through a Sleeper so
// tests run without real time passing, and shutdown interrupts them.
// Implementations are thread-safe.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits until `until` (on the Clock's steady time). Returns false at once,
  // or as soon as it happens, when the sleeper has been stopped.
  virtual bool SleepUntil(SteadyTime until) = 0;
};

// Real waiting on a condition variable; Stop() wakes every sleeper and makes
// every later SleepUntil return false immediately.
class InterruptibleSleeper : public Sleeper {
 public:
  bool SleepUntil(SteadyTime until) override;
  void Stop();
  bool stopped() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  bool stopped_ = false;
};

}  // namespace sas
