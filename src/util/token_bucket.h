#pragma once

#include <mutex>

#include "util/clock.h"

namespace sas {

// A token bucket (as GCRA): `rate` tokens per second, at most `burst` at
// once. Callers reserve a token and learn when they may use it, so nobody
// blocks inside the bucket. Thread-safe.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, const Clock& clock);

  // Reserves one token; returns the steady time from which it may be used
  // (now, when one is available).
  SteadyTime Reserve();

 private:
  const std::chrono::nanoseconds interval_;
  const std::chrono::nanoseconds tolerance_;
  const Clock& clock_;
  std::mutex mutex_;
  // Guarded by mutex_: the theoretical arrival time of the next token.
  SteadyTime tat_;
};

}  // namespace sas
