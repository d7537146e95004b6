#include "util/nonce.h"

#include <openssl/rand.h>

#include <stdexcept>

#include "util/strings.h"

namespace sas {
namespace {

class RandomNonceSource : public NonceSource {
 public:
  std::string Next() override {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      throw std::runtime_error("RAND_bytes failed: no entropy for a nonce");
    }
    return HexEncode(
        std::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
  }
};

}  // namespace

std::unique_ptr<NonceSource> MakeRandomNonceSource() {
  return std::make_unique<RandomNonceSource>();
}

}  // namespace sas
