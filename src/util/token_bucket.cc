#include "util/token_bucket.h"

#include <algorithm>

namespace sas {

TokenBucket::TokenBucket(double rate_per_second, double burst,
                         const Clock& clock)
    : interval_(static_cast<int64_t>(1e9 / rate_per_second)),
      tolerance_(static_cast<int64_t>((std::max(burst, 1.0) - 1) * 1e9 /
                                      rate_per_second)),
      clock_(clock),
      tat_(clock.SteadyNow()) {}

SteadyTime TokenBucket::Reserve() {
  std::lock_guard lock(mutex_);
  SteadyTime now = clock_.SteadyNow();
  SteadyTime when = std::max(now, tat_ - tolerance_);
  tat_ = std::max(tat_, now) + interval_;
  return when;
}

}  // namespace sas
