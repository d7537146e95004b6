#pragma once

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

}  // namespace sas
