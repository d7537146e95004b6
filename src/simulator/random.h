#pragma once

// The simulator's randomness: rates, request ids, download links and issued
// credentials all draw from one RandomSource, so a seed replays a run.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace sas::simulator {

// Thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Uniform in [0, 1).
  virtual double NextUnit() = 0;
  virtual uint64_t NextU64() = 0;
};

// A mt19937_64 behind a mutex: the same seed gives the same sequence.
class SeededRandom : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  double NextUnit() override;
  uint64_t NextU64() override;

 private:
  std::mutex mutex_;
  // Guarded by mutex_.
  std::mt19937_64 engine_;
};

inline constexpr std::string_view kAlphanumeric =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// `length` characters drawn uniformly from `alphabet` (at most 256 long).
std::string RandomText(RandomSource& random, size_t length,
                       std::string_view alphabet = kAlphanumeric);

// Standard base64 (with '=' padding) of the bytes.
std::string Base64(std::string_view bytes);

}  // namespace sas::simulator
