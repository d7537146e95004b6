#include "simulator/random.h"

namespace sas::simulator {

double SeededRandom::NextUnit() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
}

uint64_t SeededRandom::NextU64() {
  std::lock_guard<std::mutex> lock(mutex_);
  return engine_();
}

std::string RandomText(RandomSource& random, size_t length,
                       std::string_view alphabet) {
  std::string text;
  text.reserve(length);
  for (size_t i = 0; i < length; ++i) {
    text += alphabet[random.NextU64() % alphabet.size()];
  }
  return text;
}

std::string Base64(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 |
                 static_cast<uint8_t>(bytes[i + 1]) << 8 |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kBase64Alphabet[(n >> shift) & 63];
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace sas::simulator
