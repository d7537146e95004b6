#pragma once

// The simulated Security Center: turns one API request into one answer,
// following the scenario. Pure given the clock and the random source: it
// never sleeps and does no I/O (the server applies the latency it asks for).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "simulator/auth.h"
#include "simulator/scenario.h"
#include "util/clock.h"
#include "util/duration.h"

namespace sas::simulator {

// The randomness behind rates, request ids and download links. Thread-safe.
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

struct ApiResponse {
  int status = 200;
  // Always includes content-type; API answers also x-acs-request-id.
  aliyun::Headers headers;
  std::string body;
  // How long the server must wait before answering (the export's latency).
  Millis delay{0};
  // The stats bucket: the error Code, "Success", or "NonJson".
  std::string code;
  // For logging: the ExportId asked for (0 if none valid) and the
  // AccessKeyId used (empty unless it is an accepted key).
  int64_t export_id = 0;
  std::string access_key_id;

  std::optional<std::string> Header(std::string_view lowercase_name) const;
};

inline constexpr std::string_view kSasAction = "DescribeExportInfo";
inline constexpr std::string_view kSasVersion = "2018-12-03";

// Answers DescribeExportInfo per the scenario (checks and their order are in
// docs/simulator.md) and keeps the request statistics. Export times are
// measured from construction on the injected clock. Thread-safe: Handle()
// is called from every server thread at once.
class Service {
 public:
  // `clock` must outlive the service.
  Service(Scenario scenario, KeyPairs keys, const Clock& clock,
          std::unique_ptr<RandomSource> random);

  // One API call. Counts it in the statistics.
  ApiResponse Handle(const ApiRequest& request);

  // The server brackets each API call, latency included, with these so the
  // statistics know the concurrency.
  void CallStarted();
  void CallFinished();

  // {"requests": n, "by_export": {"1001": n}, "by_code": {"Success": n},
  //  "by_access_key": {"ID": n}, "max_in_flight": n, "in_flight": n}
  std::string StatsJson() const;

 private:
  ApiResponse Answer(const ApiRequest& request, int64_t* export_id,
                     std::string* access_key_id);
  ApiResponse Error(const ApiRequest& request, const ApiError& error);
  ApiResponse Success(const ExportSpec& spec);
  // True with probability `rate`; draws no randomness for rates 0 and 1.
  bool Chance(double rate);
  std::string NewRequestId();

  const Scenario scenario_;
  const Clock& clock_;
  const SteadyTime start_;
  const std::unique_ptr<RandomSource> random_;
  Authenticator authenticator_;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  int64_t requests_ = 0;
  std::map<int64_t, int64_t> by_export_;
  std::map<std::string, int64_t> by_code_;
  std::map<std::string, int64_t> by_access_key_;
  int64_t in_flight_ = 0;
  int64_t max_in_flight_ = 0;
};

}  // namespace sas::simulator
