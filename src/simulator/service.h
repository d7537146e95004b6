#pragma once

// The simulated cloud behind one port: Security Center's DescribeExportInfo,
// STS and the ECS instance metadata service. Turns one request into one
// answer, following the scenario. Pure given the clock and the random
// source: it never sleeps and does no I/O (the server applies the latency it
// asks for).

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "simulator/api_types.h"
#include "simulator/auth.h"
#include "simulator/credential_store.h"
#include "simulator/faults.h"
#include "simulator/metadata.h"
#include "simulator/random.h"
#include "simulator/scenario.h"
#include "simulator/sts.h"
#include "util/clock.h"
#include "util/duration.h"

namespace sas::simulator {

// The Security Center actions the simulator answers: every
// aliyun::ExportAction, each with its own body shape (see Success).

// Routes each request (see docs/simulator.md): paths under /latest/ to the
// metadata service; Action AssumeRole / AssumeRoleWithOIDC (x-acs-action, or
// Action in the query or form body) to STS; everything else to Security
// Center, which answers DescribeExportInfo per the scenario and its
// [[access]] rules. Temporary credentials issued by STS or the metadata
// service sign Security Center and AssumeRole calls. Keeps the request
// statistics and the failure switch. Export times are measured from
// construction on the injected clock. Thread-safe: Handle() is called from
// every server thread at once.
class Service {
 public:
  // `clock` must outlive the service.
  Service(Scenario scenario, KeyPairs keys, const Clock& clock,
          std::unique_ptr<RandomSource> random);

  // One call. Counts it in the statistics.
  ApiResponse Handle(const ApiRequest& request);

  // GET /_simulator/fail?service=sts|metadata&count=N (N 0..1000000): the
  // next N STS calls (service=sts) or metadata credential GETs
  // (service=metadata) answer 503 ServiceUnavailable; N = 0 clears. Answers
  // 200 {"service": .., "count": N}, or 400 text naming the bad parameter.
  // Not counted in the statistics.
  ApiResponse HandleFailSwitch(const ApiRequest& request);

  // /_simulator/faults (see docs/simulator.md, "Faults"): POST with the
  // fault's keys as query parameters adds one (its `after` counted from
  // now); DELETE removes them all; GET lists them. Answers 200 with the
  // list (FaultSet::Json), or 400 text naming the bad parameter. Not counted
  // in the statistics.
  ApiResponse HandleFaults(const ApiRequest& request);

  // The faults in play, scenario faults included; the server asks it
  // whether to stall.
  FaultSet& faults() { return faults_; }

  // The server brackets each API call, latency included, with these so the
  // statistics know the concurrency.
  void CallStarted();
  void CallFinished();

  // {"requests": n, "by_export": {"1001": n}, "by_code": {"Success": n},
  //  "by_access_key": {"ID": n},
  //  "sts": {"AssumeRole": n, "AssumeRoleWithOIDC": n},
  //  "metadata": {"token": n, "credentials": n},
  //  "max_in_flight": n, "in_flight": n}
  std::string StatsJson() const;

  // The request log: the latest kMaxLoggedCalls Security Center calls that
  // passed authentication and carried a valid action and ExportId (those
  // by_export counts), oldest first:
  // {"calls": [{"action": "DescribeExportInfo", "export_id": 1001,
  //   "rd_account_id": null, "access_key_id": "ID", "code": "Success"}],
  //  "dropped": n}   (n: older calls no longer listed)
  std::string RequestLogJson() const;
  static constexpr size_t kMaxLoggedCalls = 100000;

 private:
  enum class Failing { kSts, kMetadata };

  // What a Security Center call asked for, once it is known.
  struct SasCall {
    std::string action;
    int64_t export_id = 0;
    std::optional<int64_t> rd_account_id;
  };
  struct LoggedCall {
    SasCall call;
    std::string access_key_id;
    std::string code;
  };

  ApiResponse Answer(const ApiRequest& request, SasCall* call,
                     std::string* access_key_id);
  ApiResponse AnswerSas(const ApiRequest& request, SasCall* call,
                        std::string* access_key_id);
  ApiResponse AnswerSts(const ApiRequest& request, std::string_view action,
                        std::string* access_key_id);
  ApiResponse AnswerMetadata(const ApiRequest& request);
  // `product` names the API in the Recommend link ("Sas", "Sts").
  ApiResponse Error(const ApiRequest& request, const ApiError& error,
                    std::string_view product = "Sas");
  ApiResponse Success(const ExportSpec& spec);
  // DescribeBackUpExportInfo: one page of the exports of that action.
  ApiResponse ListBackUpExports(const ApiRequest& request,
                                const aliyun::Params& params);
  // A download link (a signed OSS URL) for a finished export.
  std::string DownloadLink(const ExportSpec& spec);
  // GmtCreate of the export, Unix milliseconds.
  int64_t CreatedMillis(const ExportSpec& spec) const;
  ApiResponse StsSuccess(const StsOutcome& outcome);
  // Applies the first active answer fault for `export_id` to `response`
  // (computed as without it): latency, reset, truncate, error, throttle.
  void ApplyAnswerFault(const ApiRequest& request, int64_t export_id,
                        ApiResponse* response);
  // Uses up one injected failure (the fail switch or an outage fault);
  // false when none is pending.
  bool TakeFailure(Failing which);
  // True with probability `rate`; draws no randomness for rates 0 and 1.
  bool Chance(double rate);
  std::string NewRequestId();

  const Scenario scenario_;
  const Clock& clock_;
  const SteadyTime start_;
  const WallTime start_wall_;
  const std::unique_ptr<RandomSource> random_;
  FaultSet faults_;
  // The gateway's idea of the time: clock_ plus the active clock skew.
  SkewedClock gateway_clock_;
  CredentialStore issued_;
  Authenticator authenticator_;
  Sts sts_;
  MetadataService metadata_;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  int64_t requests_ = 0;
  std::map<int64_t, int64_t> by_export_;
  std::map<std::string, int64_t> by_code_;
  std::map<std::string, int64_t> by_access_key_;
  int64_t sts_assume_role_ = 0;
  int64_t sts_assume_role_with_oidc_ = 0;
  int64_t metadata_token_ = 0;
  int64_t metadata_credentials_ = 0;
  int64_t failing_sts_ = 0;
  int64_t failing_metadata_ = 0;
  int64_t in_flight_ = 0;
  int64_t max_in_flight_ = 0;
  std::deque<LoggedCall> call_log_;
  int64_t dropped_calls_ = 0;
};

}  // namespace sas::simulator
