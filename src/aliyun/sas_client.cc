#include "aliyun/sas_client.h"

#include <sys/utsname.h>

#include "util/version.h"

namespace sas::aliyun {
SasClient::SasClient(SasClientOptions options, HttpTransport& transport,
                     CredentialsProvider& credentials, const Clock& clock,
                     NonceSource& nonces, Sleeper& sleeper, TokenBucket* bucket,
                     ApiObserver* observer)
    : options_(std::move(options)),
      transport_(transport),
      credentials_(credentials),
      clock_(clock),
      nonces_(nonces),
      sleeper_(sleeper),
      bucket_(bucket),
      observer_(observer),
      random_(std::random_device{}()) {}

double SasClient::Jitter() {
  std::lock_guard lock(random_mutex_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

CallResult SasClient::DescribeExport(const ExportQuery& query,
                                     SteadyTime deadline) {
  const std::string_view action = ExportActionName(query.action);
  RpcCall call;
  call.action = std::string(action);
  call.version = std::string(kSasApiVersion);
  call.params.emplace_back("ExportId", std::to_string(query.export_id));
  if (query.rd_account_id && HasMemberAccountParameter(query.action)) {
    call.params.emplace_back("ResourceDirectoryAccountId",
                             std::to_string(*query.rd_account_id));
  }

  CallResult result;
  bool token_refreshed = false;
  while (true) {
    CredentialsResult creds = credentials_.Get();
    if (!creds.credentials) {
      result.outcome = ApiError{"credentials",
                                creds.error_message,
                                "",
                                0,
                                {},
                                ApiErrorKind::kCredentials};
      return result;
    }
    HttpRequest request = BuildSignedRequest(
        call, options_.endpoint, *creds.credentials, options_.signature_version,
        clock_.Now(), nonces_.Next(), options_.user_agent);
    ++result.attempts;
    SteadyTime started = clock_.SteadyNow();
    TransportResult sent = transport_.Send(request);
    std::chrono::duration<double> elapsed = clock_.SteadyNow() - started;
    if (sent.error != TransportError::kNone) {
      result.outcome = TransportFailure(sent.error, sent.detail);
    } else {
      result.outcome = ParseExportAnswer(query.action, sent.response);
    }
    const ApiError* error = std::get_if<ApiError>(&result.outcome);
    if (observer_ != nullptr &&
        (error == nullptr || error->kind != ApiErrorKind::kCancelled)) {
      observer_->OnAttempt(options_.account, action, elapsed, error);
    }
    if (error != nullptr && error->code == "InvalidSecurityToken.Expired" &&
        !token_refreshed) {
      // The API says the token expired before our clock did: fetch new
      // credentials now and try once more, outside the retry budget.
      token_refreshed = true;
      if (credentials_.Refresh().credentials) continue;
      return result;
    }
    if (error == nullptr ||
        !ShouldRetry(*error, result.attempts, options_.retry)) {
      return result;
    }
    SteadyTime resume = SaturatingAdd(
        clock_.SteadyNow(), BackoffDelay(options_.retry, result.attempts,
                                         error->retry_after, Jitter()));
    if (bucket_ != nullptr) resume = std::max(resume, bucket_->Reserve());
    if (resume >= deadline) return result;  // the last error stands
    if (!sleeper_.SleepUntil(resume)) {
      result.outcome = ApiError{"cancelled", "shutting down",         "", 0,
                                {},          ApiErrorKind::kCancelled};
      return result;
    }
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
