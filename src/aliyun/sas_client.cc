#include "aliyun/sas_client.h"

#include <sys/utsname.h>

#include "util/version.h"

namespace sas::aliyun {
SasClient::SasClient(SasClientOptions options, HttpTransport& transport,
                     CredentialsProvider& credentials, const Clock& clock,
                     NonceSource& nonces, Sleeper& sleeper, TokenBucket* bucket,
                     ApiObserver* observer, EventLoopPath event_loop)
    : options_(std::move(options)),
      transport_(transport),
      credentials_(credentials),
      clock_(clock),
      nonces_(nonces),
      sleeper_(sleeper),
      bucket_(bucket),
      observer_(observer),
      event_loop_(event_loop),
      random_(std::random_device{}()) {}

double SasClient::Jitter() {
  std::lock_guard lock(random_mutex_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

namespace {

RpcCall DescribeCall(const ExportQuery& query) {
  RpcCall call;
  call.action = std::string(ExportActionName(query.action));
  call.version = std::string(kSasApiVersion);
  call.params.emplace_back("ExportId", std::to_string(query.export_id));
  if (query.rd_account_id && HasMemberAccountParameter(query.action)) {
    call.params.emplace_back("ResourceDirectoryAccountId",
                             std::to_string(*query.rd_account_id));
  }
  return call;
}

ApiError CredentialsError(const CredentialsResult& creds) {
  return ApiError{"credentials",
                  creds.error_message,
                  "",
                  0,
                  {},
                  ApiErrorKind::kCredentials};
}

ApiError CancelledError() {
  return ApiError{"cancelled", "shutting down",         "", 0,
                  {},          ApiErrorKind::kCancelled};
}

}  // namespace

// One DescribeExportAsync call between its attempts.
struct SasClient::AsyncCall {
  ExportQuery query;
  RpcCall rpc;
  SteadyTime deadline;
  DescribeDone done;
  CallResult result;
  bool token_refreshed = false;
  SteadyTime attempt_started;
};

CallResult SasClient::DescribeExport(const ExportQuery& query,
                                     SteadyTime deadline) {
  CallResult result;
  std::optional<ApiError> error = Call(
      DescribeCall(query),
      [&](const HttpResponse& response) -> std::optional<ApiError> {
        auto parsed = ParseExportAnswer(query.action, response);
        if (auto* failure = std::get_if<ApiError>(&parsed)) return *failure;
        result.outcome = std::get<ExportInfo>(std::move(parsed));
        return std::nullopt;
      },
      deadline, &result.attempts);
  if (error) result.outcome = std::move(*error);
  return result;
}

void SasClient::DescribeExportAsync(const ExportQuery& query,
                                    SteadyTime deadline, DescribeDone done) {
  if (event_loop_.loop == nullptr || event_loop_.transport == nullptr) {
    done(DescribeExport(query, deadline));
    return;
  }
  auto call = std::make_shared<AsyncCall>();
  call->query = query;
  call->rpc = DescribeCall(query);
  call->deadline = deadline;
  call->done = std::move(done);
  SendAttempt(std::move(call));
}

void SasClient::SendAttempt(std::shared_ptr<AsyncCall> call) {
  CredentialsResult creds = credentials_.Get();
  if (!creds.credentials) {
    call->result.outcome = CredentialsError(creds);
    DescribeDone done = std::move(call->done);
    done(std::move(call->result));
    return;
  }
  HttpRequest request =
      BuildSignedRequest(call->rpc, options_.endpoint, *creds.credentials,
                         options_.signature_version, clock_.Now(),
                         nonces_.Next(), options_.user_agent);
  ++call->result.attempts;
  call->attempt_started = clock_.SteadyNow();
  event_loop_.transport->Send(std::move(request),
                              [this, call](TransportResult sent) mutable {
                                OnAnswer(std::move(call), std::move(sent));
                              });
}

void SasClient::OnAnswer(std::shared_ptr<AsyncCall> call,
                         TransportResult sent) {
  std::optional<ApiError> error;
  if (sent.error != TransportError::kNone) {
    error = TransportFailure(sent.error, sent.detail);
  } else {
    auto parsed = ParseExportAnswer(call->query.action, sent.response);
    if (auto* failure = std::get_if<ApiError>(&parsed)) {
      error = std::move(*failure);
    } else {
      call->result.outcome = std::get<ExportInfo>(std::move(parsed));
    }
  }
  std::chrono::duration<double> elapsed =
      clock_.SteadyNow() - call->attempt_started;
  if (!error || error->kind != ApiErrorKind::kCancelled) {
    ReportAttempt(call->rpc.action, elapsed, error ? &*error : nullptr);
  }
  if (error) {
    NextAttempt next = AfterFailure(*error, call->result.attempts,
                                    &call->token_refreshed, call->deadline);
    if (next.retry) {
      // The loop's timers run on the real steady clock, `next.at` is on
      // clock_ (a fake one in tests): the wait is what carries over.
      auto wait =
          std::max(SteadyTime::duration::zero(), next.at - clock_.SteadyNow());
      event_loop_.loop->RunAt(
          std::chrono::steady_clock::now() + wait,
          [this, call]() mutable { SendAttempt(std::move(call)); });
      return;
    }
    call->result.outcome = std::move(*error);
  }
  DescribeDone done = std::move(call->done);
  done(std::move(call->result));
}

BackUpListResult SasClient::ListBackUpExports(int32_t page, int32_t page_size,
                                              SteadyTime deadline) {
  // Request fields of the official Go SDK alibabacloud-go/sas-20181203,
  // client/describe_back_up_export_info_request_model.go; suspiciousExport
  // is the one ExportType it documents.
  RpcCall call;
  call.action =
      std::string(ExportActionName(ExportAction::kDescribeBackUpExportInfo));
  call.version = std::string(kSasApiVersion);
  call.params.emplace_back("CurrentPage", std::to_string(page));
  call.params.emplace_back("ExportType", "suspiciousExport");
  call.params.emplace_back("PageSize", std::to_string(page_size));
  BackUpListResult result;
  std::optional<ApiError> error = Call(
      call,
      [&](const HttpResponse& response) -> std::optional<ApiError> {
        auto parsed = ParseBackUpExportPage(response);
        if (auto* failure = std::get_if<ApiError>(&parsed)) return *failure;
        result.outcome = std::get<BackUpExportPage>(std::move(parsed));
        return std::nullopt;
      },
      deadline, &result.attempts);
  if (error) result.outcome = std::move(*error);
  return result;
}

void SasClient::ReportAttempt(const std::string& action,
                              std::chrono::duration<double> elapsed,
                              const ApiError* error) {
  if (observer_ != nullptr) {
    observer_->OnAttempt(options_.account, action, elapsed, error);
  }
}

SasClient::NextAttempt SasClient::AfterFailure(const ApiError& error,
                                               int attempts,
                                               bool* token_refreshed,
                                               SteadyTime deadline) {
  if (error.code == "InvalidSecurityToken.Expired" && !*token_refreshed) {
    // The API says the token expired before our clock did: fetch new
    // credentials now and try once more, outside the retry budget.
    *token_refreshed = true;
    if (credentials_.Refresh().credentials) {
      return {true, clock_.SteadyNow()};
    }
    return {};
  }
  if (!ShouldRetry(error, attempts, options_.retry)) return {};
  SteadyTime resume = SaturatingAdd(
      clock_.SteadyNow(),
      BackoffDelay(options_.retry, attempts, error.retry_after, Jitter()));
  if (bucket_ != nullptr) resume = std::max(resume, bucket_->Reserve());
  if (resume >= deadline) return {};  // the last error stands
  return {true, resume};
}

std::optional<ApiError> SasClient::Call(const RpcCall& call,
                                        const ReadAnswer& read,
                                        SteadyTime deadline, int* attempts) {
  bool token_refreshed = false;
  while (true) {
    CredentialsResult creds = credentials_.Get();
    if (!creds.credentials) return CredentialsError(creds);
    HttpRequest request = BuildSignedRequest(
        call, options_.endpoint, *creds.credentials, options_.signature_version,
        clock_.Now(), nonces_.Next(), options_.user_agent);
    ++*attempts;
    SteadyTime started = clock_.SteadyNow();
    TransportResult sent = transport_.Send(request);
    std::chrono::duration<double> elapsed = clock_.SteadyNow() - started;
    std::optional<ApiError> error;
    if (sent.error != TransportError::kNone) {
      error = TransportFailure(sent.error, sent.detail);
    } else {
      error = read(sent.response);
    }
    if (!error || error->kind != ApiErrorKind::kCancelled) {
      ReportAttempt(call.action, elapsed, error ? &*error : nullptr);
    }
    if (!error) return std::nullopt;
    NextAttempt next =
        AfterFailure(*error, *attempts, &token_refreshed, deadline);
    if (!next.retry) return error;
    if (!sleeper_.SleepUntil(next.at)) return CancelledError();
  }
}

std::string DefaultUserAgent(const std::string& extra) {
  struct utsname name {};
  std::string os = "linux", arch = "unknown";
  if (uname(&name) == 0) {
    os = name.sysname;
    arch = name.machine;
  }
  std::string agent = std::string("aliyun_sas_exporter/") + kVersion + " (" +
                      os + "; " + arch + ")";
  if (!extra.empty()) agent += " " + extra;
  return agent;
}

}  // namespace sas::aliyun
