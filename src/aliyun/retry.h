#pragma once

#include <chrono>

#include "aliyun/response.h"
#include "util/duration.h"

namespace sas::aliyun {

struct RetryPolicy {
  // Extra attempts after the first, for retryable failures only.
  int max_retries = 2;
  // Backoff before retry n (1-based) is uniform in [0, min(cap, base*2^(n-1))]
  // ("full jitter"), unless the server sent x-acs-retry-after (see
  // BackoffDelay).
  Millis base{200};
  Millis cap{10'000};
};

// True when `error` may be retried and attempts_made (>= 1) leaves room.
bool ShouldRetry(const ApiError& error, int attempts_made,
                 const RetryPolicy& policy);

// The wait before retry number `retry` (1-based): the server's
// x-acs-retry-after (retry_after, already at most kMaxRetryAfter) when it is
// positive, as the official client waits (the darabonba tea library,
// dara/retry.go GetBackoffDelay); otherwise the jittered backoff, where
// uniform01 in [0, 1) is the jitter draw.
Millis BackoffDelay(const RetryPolicy& policy, int retry, Millis retry_after,
                    double uniform01);

}  // namespace sas::aliyun
