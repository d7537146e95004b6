#pragma once

#include <atomic>
#include <string>
#include <utility>

#include "util/nonce.h"

namespace sas::testing {

// "<prefix>1", "<prefix>2", ...: predictable nonces, so a test can check an
// exact signature. Thread-safe.
class CountingNonceSource : public NonceSource {
 public:
  explicit CountingNonceSource(std::string prefix = "nonce-")
      : prefix_(std::move(prefix)) {}
  std::string Next() override { return prefix_ + std::to_string(++count_); }

 private:
  std::string prefix_;
  std::atomic<long> count_{0};
};

}  // namespace sas::testing
