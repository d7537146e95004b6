#include "util/nonce.h"

#include <openssl/rand.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

#include "util/strings.h"

namespace sas {
namespace {

// 64 random bits drawn once, then a 64-bit counter: unique within the process
// and, with overwhelming probability, across restarts, which is all a nonce
// needs (it prevents replays; it is not a secret). RAND_bytes per request
// cost more than the rest of signing.
class RandomNonceSource : public NonceSource {
 public:
  RandomNonceSource() {
    unsigned char bytes[8];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      throw std::runtime_error("RAND_bytes failed: no entropy for nonces");
    }
    prefix_ = HexEncode(
        std::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
  }

  std::string Next() override {
    uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
    char counter[17];
    std::snprintf(counter, sizeof(counter), "%016llx",
                  static_cast<unsigned long long>(n));
    return prefix_ + counter;
  }

 private:
  std::string prefix_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

std::unique_ptr<NonceSource> MakeRandomNonceSource() {
  return std::make_unique<RandomNonceSource>();
}

}  // namespace sas
