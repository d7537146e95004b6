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
  RpcCall call;
  call.action = std::string(ExportActionName(query.action));
  call.version = std::string(kSasApiVersion);
  call.params.emplace_back("ExportId", std::to_string(query.export_id));
  if (query.rd_account_id && HasMemberAccountParameter(query.action)) {
    call.params.emplace_back("ResourceDirectoryAccountId",
                             std::to_string(*query.rd_account_id));
  }
  CallResult result;
  std::optional<ApiError> error = Call(
      call,
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

std::optional<ApiError> SasClient::Call(const RpcCall& call,
                                        const ReadAnswer& read,
                                        SteadyTime deadline, int* attempts) {
  bool token_refreshed = false;
  while (true) {
    CredentialsResult creds = credentials_.Get();
    if (!creds.credentials) {
      return ApiError{"credentials",
                      creds.error_message,
                      "",
                      0,
                      {},
                      ApiErrorKind::kCredentials};
    }
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
    if (observer_ != nullptr &&
        (!error || error->kind != ApiErrorKind::kCancelled)) {
      observer_->OnAttempt(options_.account, call.action, elapsed,
                           error ? &*error : nullptr);
    }
    if (!error) return std::nullopt;
    if (error->code == "InvalidSecurityToken.Expired" && !token_refreshed) {
      // The API says the token expired before our clock did: fetch new
      // credentials now and try once more, outside the retry budget.
      token_refreshed = true;
      if (credentials_.Refresh().credentials) continue;
      return error;
    }
    if (!ShouldRetry(*error, *attempts, options_.retry)) return error;
    SteadyTime resume = SaturatingAdd(
        clock_.SteadyNow(),
        BackoffDelay(options_.retry, *attempts, error->retry_after, Jitter()));
    if (bucket_ != nullptr) resume = std::max(resume, bucket_->Reserve());
    if (resume >= deadline) return error;  // the last error stands
    if (!sleeper_.SleepUntil(resume)) {
      return ApiError{"cancelled", "shutting down",         "", 0,
                      {},          ApiErrorKind::kCancelled};
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
