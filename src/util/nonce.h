#pragma once

#include <atomic>
#include <memory>
#include <string>

namespace sas {

// The nonce seam: every signed request takes a fresh nonce from here.
// Implementations are thread-safe.
class NonceSource {
 public:
  virtual ~NonceSource() = default;
  virtual std::string Next() = 0;
};

// 32 lowercase hex digits: 64 random bits from OpenSSL's CSPRNG, drawn once
// per source, then a 64-bit counter. Unique, not secret.
std::unique_ptr<NonceSource> MakeRandomNonceSource();

// "<prefix>1", "<prefix>2", ...: predictable nonces for tests.
class CountingNonceSource : public NonceSource {
 public:
  explicit CountingNonceSource(std::string prefix = "nonce-")
      : prefix_(std::move(prefix)) {}
  std::string Next() override { return prefix_ + std::to_string(++count_); }

 private:
  std::string prefix_;
  std::atomic<long> count_{0};
};

}  // namespace sas
