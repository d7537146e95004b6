#include "aliyun/retry.h"

#include <algorithm>
#include <cmath>

namespace sas::aliyun {

bool ShouldRetry(const ApiError& error, int attempts_made,
                 const RetryPolicy& policy) {
  return attempts_made <= policy.max_retries && IsRetryable(error);
}

Millis BackoffDelay(const RetryPolicy& policy, int retry, Millis retry_after,
                    double uniform01) {
  if (retry_after.count() > 0) return retry_after;
  double ceiling = static_cast<double>(policy.base.count()) *
                   std::pow(2.0, std::max(0, retry - 1));
  ceiling = std::min(ceiling, static_cast<double>(policy.cap.count()));
  auto jittered = Millis(static_cast<int64_t>(ceiling * uniform01));
  return jittered;
}

}  // namespace sas::aliyun
