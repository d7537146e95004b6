#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <variant>

#include "aliyun/credentials.h"
#include "aliyun/export_action.h"
#include "aliyun/http.h"
#include "aliyun/request.h"
#include "aliyun/response.h"
#include "aliyun/retry.h"
#include "util/clock.h"
#include "util/event_loop.h"
#include "util/nonce.h"
#include "util/sleeper.h"
#include "util/token_bucket.h"

namespace sas::aliyun {

// Sees every HTTP attempt the client makes, for metrics. Thread-safe.
class ApiObserver {
 public:
  virtual ~ApiObserver() = default;
  // error is null for a successful attempt.
  virtual void OnAttempt(std::string_view account, std::string_view action,
                         std::chrono::duration<double> elapsed,
                         const ApiError* error) = 0;
};

struct SasClientOptions {
  std::string account;  // the `account` label
  Endpoint endpoint;
  SignatureVersion signature_version = SignatureVersion::kV3;
  RetryPolicy retry;
  std::string user_agent;
};

// One progress request: `action` with ExportId, and ResourceDirectoryAccountId
// when rd_account_id is set (only actions with HasMemberAccountParameter
// send it).
struct ExportQuery {
  ExportAction action = kDefaultExportAction;
  int64_t export_id = 0;
  std::optional<int64_t> rd_account_id;
};

struct CallResult {
  std::variant<ExportInfo, ApiError> outcome;
  int attempts = 0;

  bool ok() const { return std::holds_alternative<ExportInfo>(outcome); }
  const ExportInfo& info() const { return std::get<ExportInfo>(outcome); }
  const ApiError& error() const { return std::get<ApiError>(outcome); }
};

// What the poller needs of an account: "describe this export". Thread-safe.
class ExportDescriber {
 public:
  using DescribeDone = std::function<void(CallResult)>;

  virtual ~ExportDescriber() = default;
  // Asks query.action for the export's progress. Never throws; failures are
  // values (ApiError with a code).
  virtual CallResult DescribeExport(const ExportQuery& query,
                                    SteadyTime deadline) = 0;
  // The same without blocking, on the poller's event loop: called on the
  // loop's thread, `done` runs there exactly once, possibly inside this
  // call. This default blocks: it answers with DescribeExport, inline.
  virtual void DescribeExportAsync(const ExportQuery& query,
                                   SteadyTime deadline, DescribeDone done) {
    done(DescribeExport(query, deadline));
  }
};

struct BackUpListResult {
  std::variant<BackUpExportPage, ApiError> outcome;
  int attempts = 0;

  bool ok() const { return std::holds_alternative<BackUpExportPage>(outcome); }
  const BackUpExportPage& page() const {
    return std::get<BackUpExportPage>(outcome);
  }
  const ApiError& error() const { return std::get<ApiError>(outcome); }
};

// What discovery needs of an account: "list the archived exports".
// Thread-safe.
class BackUpExportLister {
 public:
  virtual ~BackUpExportLister() = default;
  // One page (1-based) of DescribeBackUpExportInfo with ExportType
  // suspiciousExport. Never throws; failures are values.
  virtual BackUpListResult ListBackUpExports(int32_t page, int32_t page_size,
                                             SteadyTime deadline) = 0;
};

// Where DescribeExportAsync sends without blocking: an event loop and a
// transport on it (both must outlive the client). Without them it blocks,
// as ExportDescriber's default does.
struct EventLoopPath {
  EventLoop* loop = nullptr;
  AsyncHttpTransport* transport = nullptr;
};

// Calls Security Center for one account: signs each attempt afresh (date,
// nonce, signature), retries retryable failures with backoff within the
// deadline, takes a token from the account's bucket before every retry
// (the first attempt's token is the caller's to take). Thread-safe; every
// dependency must outlive the client.
class SasClient : public ExportDescriber, public BackUpExportLister {
 public:
  SasClient(SasClientOptions options, HttpTransport& transport,
            CredentialsProvider& credentials, const Clock& clock,
            NonceSource& nonces, Sleeper& sleeper, TokenBucket* bucket,
            ApiObserver* observer, EventLoopPath event_loop = {});

  // Never throws. When the deadline leaves no room for a retry's wait, the
  // last attempt's error stands; "cancelled" when the sleeper was stopped.
  CallResult DescribeExport(const ExportQuery& query,
                            SteadyTime deadline) override;
  // The same on the event loop: attempts through its transport, retry waits
  // on its timers, so the loop's thread never blocks, except for the rare
  // forced refresh of a token the API called expired (a blocking fetch).
  // `done` runs after the last use of this client's members, so it may
  // release the client. "cancelled" when the transport was cancelled.
  void DescribeExportAsync(const ExportQuery& query, SteadyTime deadline,
                           DescribeDone done) override;
  BackUpListResult ListBackUpExports(int32_t page, int32_t page_size,
                                     SteadyTime deadline) override;

 private:
  struct AsyncCall;
  // After a failed attempt: give up, or retry at `at` (the backoff and the
  // bucket's token both waited for).
  struct NextAttempt {
    bool retry = false;
    SteadyTime at;
  };
  // Interprets one attempt's response: keeps what it accepts and returns
  // nullopt, or returns the attempt's error.
  using ReadAnswer =
      std::function<std::optional<ApiError>(const HttpResponse&)>;
  // Sends `call` (as `action` in metrics) with signing, retries and the
  // forced token refresh described above. nullopt when an attempt's answer
  // was accepted, else the error that stands.
  std::optional<ApiError> Call(const RpcCall& call, const ReadAnswer& read,
                               SteadyTime deadline, int* attempts);
  double Jitter();
  // What follows a failed attempt: a forced token refresh once (outside
  // the retry budget), then retries within the policy and the deadline.
  NextAttempt AfterFailure(const ApiError& error, int attempts,
                           bool* token_refreshed, SteadyTime deadline);
  void ReportAttempt(const std::string& action,
                     std::chrono::duration<double> elapsed,
                     const ApiError* error);
  // Signs and sends the next attempt of `call` through the event loop.
  void SendAttempt(std::shared_ptr<AsyncCall> call);
  void OnAnswer(std::shared_ptr<AsyncCall> call, TransportResult sent);

  const SasClientOptions options_;
  HttpTransport& transport_;
  CredentialsProvider& credentials_;
  const Clock& clock_;
  NonceSource& nonces_;
  Sleeper& sleeper_;
  TokenBucket* const bucket_;
  ApiObserver* const observer_;
  const EventLoopPath event_loop_;
  std::mutex random_mutex_;
  // Guarded by random_mutex_.
  std::mt19937_64 random_;
};

// "aliyun_sas_exporter/<version> (<os>; <arch>)", plus the value of
// ALIBABA_CLOUD_USER_AGENT after a space when it is set.
std::string DefaultUserAgent(const std::string& extra);

}  // namespace sas::aliyun
