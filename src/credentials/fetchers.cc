#include "credentials/fetchers.h"

#include <optional>
#include <utility>

#include "aliyun/request.h"
#include "aliyun/response.h"
#include "aliyun/signing.h"
#include "credentials/formats.h"
#include "util/strings.h"

namespace sas::credentials {

using aliyun::Credentials;
using aliyun::CredentialsProvider;
using aliyun::CredentialsResult;

namespace {

constexpr std::string_view kStsVersion = "2015-04-01";
constexpr std::string_view kTokenPath = "/latest/api/token";
constexpr std::string_view kCredentialsPath =
    "/latest/meta-data/ram/security-credentials/";
constexpr std::string_view kTokenTtlHeader =
    "X-aliyun-ecs-metadata-token-ttl-seconds";
constexpr std::string_view kTokenHeader = "X-aliyun-ecs-metadata-token";
constexpr std::string_view kTokenTtlSeconds = "21600";
// OIDC tokens are a few kilobytes.
constexpr size_t kMaxTokenFileBytes = 64 << 10;

CredentialsResult Failure(std::string code, std::string message) {
  return {std::nullopt, std::move(code), std::move(message)};
}

// A transport failure as the API client reports it ("timeout",
// "connection", "tls", "bad_response", "cancelled").
CredentialsResult TransportFailed(std::string_view what,
                                  const aliyun::TransportResult& sent) {
  aliyun::ApiError error = aliyun::TransportFailure(sent.error, sent.detail);
  return Failure(error.code, std::string(what) + ": " + error.message);
}

// Prefixes a failed result's message with what was being done.
CredentialsResult Prefixed(std::string_view what, CredentialsResult result) {
  if (!result.credentials) {
    result.error_message = std::string(what) + ": " + result.error_message;
  }
  return result;
}

std::string Seconds(Millis duration) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(duration).count());
}

class StaticFetcher : public CredentialsFetcher {
 public:
  StaticFetcher(Credentials credentials, std::string type)
      : credentials_(std::move(credentials)), type_(std::move(type)) {}
  CredentialsResult Fetch() override { return {credentials_, "", ""}; }
  std::string Type() const override { return type_; }

 private:
  const Credentials credentials_;
  const std::string type_;
};

// Thread-compatible (the source and the transport are thread-safe).
class AssumeRoleFetcher : public CredentialsFetcher {
 public:
  AssumeRoleFetcher(StsOptions options, CredentialsProvider& source,
                    aliyun::HttpTransport& transport, const Clock& clock,
                    NonceSource& nonces)
      : options_(std::move(options)),
        source_(source),
        transport_(transport),
        clock_(clock),
        nonces_(nonces) {}

  CredentialsResult Fetch() override {
    CredentialsResult source = source_.Get();
    if (!source.credentials) return source;

    aliyun::RpcCall call{"AssumeRole", std::string(kStsVersion), {}};
    call.params.emplace_back("RoleArn", options_.role_arn);
    call.params.emplace_back("RoleSessionName", options_.role_session_name);
    call.params.emplace_back("DurationSeconds", Seconds(options_.duration));
    if (!options_.policy.empty()) {
      call.params.emplace_back("Policy", options_.policy);
    }
    if (!options_.external_id.empty()) {
      call.params.emplace_back("ExternalId", options_.external_id);
    }
    aliyun::HttpRequest request =
        aliyun::BuildSignedRequest(call, options_.endpoint, *source.credentials,
                                   aliyun::SignatureVersion::kV1, clock_.Now(),
                                   nonces_.Next(), options_.user_agent);

    std::string what = "STS AssumeRole of " + options_.role_arn;
    aliyun::TransportResult sent = transport_.Send(request);
    if (sent.error != aliyun::TransportError::kNone) {
      return TransportFailed(what, sent);
    }
    return Prefixed(what, ParseStsCredentials(sent.response));
  }

  std::string Type() const override { return "ram_role_arn"; }

 private:
  const StsOptions options_;
  CredentialsProvider& source_;
  aliyun::HttpTransport& transport_;
  const Clock& clock_;
  NonceSource& nonces_;
};

// Thread-compatible (the file system and the transport are thread-safe).
class OidcFetcher : public CredentialsFetcher {
 public:
  OidcFetcher(OidcOptions options, const FileSystem& files,
              aliyun::HttpTransport& transport, const Clock& clock,
              NonceSource& nonces)
      : options_(std::move(options)),
        files_(files),
        transport_(transport),
        clock_(clock),
        nonces_(nonces) {}

  CredentialsResult Fetch() override {
    FileReadResult file =
        files_.ReadFile(options_.oidc_token_file, kMaxTokenFileBytes);
    if (!file.ok) {
      return Failure("OIDCTokenFileUnreadable",
                     "cannot read the OIDC token file " +
                         options_.oidc_token_file + ": " + file.error);
    }
    std::string_view token = Trim(file.content);
    if (token.empty()) {
      return Failure(
          "OIDCTokenFileUnreadable",
          "the OIDC token file " + options_.oidc_token_file + " is empty");
    }

    aliyun::Params params = {
        {"Action", "AssumeRoleWithOIDC"},
        {"Version", std::string(kStsVersion)},
        {"Format", "JSON"},
        {"Timestamp", FormatIso8601(clock_.Now())},
        {"SignatureNonce", nonces_.Next()},
        {"RoleArn", options_.role_arn},
        {"OIDCProviderArn", options_.oidc_provider_arn},
        {"OIDCToken", std::string(token)},
        {"RoleSessionName", options_.role_session_name},
        {"DurationSeconds", Seconds(options_.duration)},
    };
    if (!options_.policy.empty())
      params.emplace_back("Policy", options_.policy);
    aliyun::HttpRequest request;
    request.method = "POST";
    request.endpoint = options_.endpoint;
    request.target = "/?" + aliyun::CanonicalQueryString(params);
    request.headers.emplace_back("host", options_.endpoint.HostHeader());
    request.headers.emplace_back("accept", "application/json");
    if (!options_.user_agent.empty()) {
      request.headers.emplace_back("user-agent", options_.user_agent);
    }

    std::string what = "STS AssumeRoleWithOIDC of " + options_.role_arn;
    aliyun::TransportResult sent = transport_.Send(request);
    if (sent.error != aliyun::TransportError::kNone) {
      return TransportFailed(what, sent);
    }
    return Prefixed(what, ParseStsCredentials(sent.response));
  }

  std::string Type() const override { return "oidc_role_arn"; }

 private:
  const OidcOptions options_;
  const FileSystem& files_;
  aliyun::HttpTransport& transport_;
  const Clock& clock_;
  NonceSource& nonces_;
};

// Thread-compatible: Fetch() updates the discovered role name.
class EcsRamRoleFetcher : public CredentialsFetcher {
 public:
  EcsRamRoleFetcher(EcsMetadataOptions options,
                    aliyun::HttpTransport& transport)
      : options_(std::move(options)),
        transport_(transport),
        role_(options_.role_name) {}

  CredentialsResult Fetch() override {
    std::optional<std::string> token;
    if (std::optional<CredentialsResult> failed = FetchToken(&token)) {
      return *failed;
    }

    if (role_.empty()) {
      aliyun::TransportResult sent = Get(std::string(kCredentialsPath), token);
      if (sent.error != aliyun::TransportError::kNone) {
        return TransportFailed("ECS metadata service (role discovery)", sent);
      }
      if (sent.response.status != 200) {
        return ServiceError("role discovery", sent.response.status);
      }
      std::string_view listing = sent.response.body;
      std::string_view first = Trim(listing.substr(0, listing.find('\n')));
      if (first.empty()) {
        return Failure("MetadataServiceError",
                       "ECS metadata service: no RAM role is attached to the "
                       "instance");
      }
      role_ = std::string(first);
    }

    aliyun::TransportResult sent = Get(
        std::string(kCredentialsPath) + aliyun::PercentEncode(role_), token);
    std::string what = "ECS metadata service (role " + role_ + ")";
    if (sent.error != aliyun::TransportError::kNone) {
      return TransportFailed(what, sent);
    }
    if (sent.response.status != 200) {
      std::string role = role_;
      // The instance's role may have been replaced: discover it again.
      if (sent.response.status == 404 && options_.role_name.empty()) {
        role_.clear();
      }
      return ServiceError("role " + role, sent.response.status);
    }
    return Prefixed(what, ParseMetadataCredentials(sent.response.body));
  }

  std::string Type() const override { return "ecs_ram_role"; }

 private:
  // Sets *token to an IMDSv2 token, or leaves it empty to go on with IMDSv1.
  // Returns the failure when neither is possible.
  std::optional<CredentialsResult> FetchToken(
      std::optional<std::string>* token) {
    aliyun::HttpRequest request;
    request.method = "PUT";
    request.endpoint = options_.endpoint;
    request.target = std::string(kTokenPath);
    request.headers.emplace_back("host", options_.endpoint.HostHeader());
    request.headers.emplace_back(std::string(kTokenTtlHeader),
                                 std::string(kTokenTtlSeconds));
    aliyun::TransportResult sent = transport_.Send(request);

    std::string why;
    if (sent.error == aliyun::TransportError::kCancelled) {
      return TransportFailed("ECS metadata service", sent);
    } else if (sent.error != aliyun::TransportError::kNone) {
      why = aliyun::TransportFailure(sent.error, sent.detail).message;
    } else if (sent.response.status != 200) {
      why = "HTTP " + std::to_string(sent.response.status);
    } else if (Trim(sent.response.body).empty()) {
      why = "an empty token";
    } else {
      *token = std::string(Trim(sent.response.body));
      return std::nullopt;
    }
    if (options_.imds_v1_disabled) {
      return Failure("MetadataTokenUnavailable",
                     "ECS metadata service gave no IMDSv2 token (" + why +
                         ") and IMDSv1 is disabled");
    }
    return std::nullopt;
  }

  aliyun::TransportResult Get(std::string target,
                              const std::optional<std::string>& token) {
    aliyun::HttpRequest request;
    request.method = "GET";
    request.endpoint = options_.endpoint;
    request.target = std::move(target);
    request.headers.emplace_back("host", options_.endpoint.HostHeader());
    if (token) request.headers.emplace_back(std::string(kTokenHeader), *token);
    return transport_.Send(request);
  }

  static CredentialsResult ServiceError(std::string_view what, int status) {
    return Failure("MetadataServiceError",
                   "ECS metadata service answered HTTP " +
                       std::to_string(status) + " for " + std::string(what));
  }

  const EcsMetadataOptions options_;
  aliyun::HttpTransport& transport_;
  // The configured role, or the one discovered ("" = discover).
  std::string role_;
};

// Splits "scheme://authority/path?query" into an endpoint and a target.
// Returns false with *why set (never quoting the URI, whose query may hold
// a secret).
bool SplitUri(std::string_view uri, aliyun::Endpoint* endpoint,
              std::string* target, std::string* why) {
  size_t separator = uri.find("://");
  std::string scheme = separator == std::string_view::npos
                           ? ""
                           : ToLower(uri.substr(0, separator));
  if (scheme != "http" && scheme != "https") {
    *why = "the credentials URI must start with http:// or https://";
    return false;
  }
  std::string_view rest = uri.substr(separator + 3);
  size_t path = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path);
  std::string_view tail =
      path == std::string_view::npos ? "" : rest.substr(path);
  tail = tail.substr(0, tail.find('#'));
  for (char c : tail) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      *why = "the credentials URI contains a space or control character";
      return false;
    }
  }
  std::string endpoint_error;
  std::optional<aliyun::Endpoint> parsed = aliyun::ParseEndpoint(
      scheme + "://" + std::string(authority), &endpoint_error);
  if (!parsed) {
    *why = "the credentials URI has a bad host: " + endpoint_error;
    return false;
  }
  *endpoint = *parsed;
  *target = tail.empty() || tail[0] != '/' ? "/" + std::string(tail)
                                           : std::string(tail);
  return true;
}

// Thread-compatible (the transport is thread-safe).
class CredentialsUriFetcher : public CredentialsFetcher {
 public:
  CredentialsUriFetcher(std::string uri, aliyun::HttpTransport& transport)
      : transport_(transport) {
    valid_ = SplitUri(uri, &endpoint_, &target_, &invalid_reason_);
  }

  CredentialsResult Fetch() override {
    if (!valid_) return Failure("InvalidCredentialsUri", invalid_reason_);
    aliyun::HttpRequest request;
    request.method = "GET";
    request.endpoint = endpoint_;
    request.target = target_;
    request.headers.emplace_back("host", endpoint_.HostHeader());
    request.headers.emplace_back("accept", "application/json");
    std::string what = "credentials URI " + endpoint_.Url();
    aliyun::TransportResult sent = transport_.Send(request);
    if (sent.error != aliyun::TransportError::kNone) {
      return TransportFailed(what, sent);
    }
    if (sent.response.status != 200) {
      return Failure(
          "MetadataServiceError",
          what + " answered HTTP " + std::to_string(sent.response.status));
    }
    return Prefixed(what, ParseMetadataCredentials(sent.response.body));
  }

  std::string Type() const override { return "credentials_uri"; }

 private:
  aliyun::HttpTransport& transport_;
  bool valid_ = false;
  aliyun::Endpoint endpoint_;
  std::string target_;
  std::string invalid_reason_;
};

// Printable ASCII of text (others become '?'), at most max bytes, trimmed.
std::string Printable(std::string_view text, size_t max) {
  text = Trim(text);
  std::string out;
  for (char c : text.substr(0, max)) {
    bool ok = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t';
    out += ok ? (c == '\n' ? ' ' : c) : '?';
  }
  if (text.size() > max) out += "...";
  return out;
}

// Thread-compatible (the runner is thread-safe).
class ExternalFetcher : public CredentialsFetcher {
 public:
  ExternalFetcher(ExternalOptions options, ProcessRunner& processes)
      : options_(std::move(options)), processes_(processes) {}

  CredentialsResult Fetch() override {
    const std::string what =
        "External process_command " + (options_.argv.empty()
                                           ? std::string()
                                           : "\"" + options_.argv[0] + "\"");
    ProcessResult run =
        processes_.Run(options_.argv, options_.timeout, options_.max_output);
    std::string why;
    switch (run.end) {
      case ProcessResult::End::kExited:
        if (run.exit_code != 0) {
          why = "exited with status " + std::to_string(run.exit_code);
        }
        break;
      case ProcessResult::End::kSignalled:
        why = "was killed by signal " + std::to_string(run.signal);
        break;
      case ProcessResult::End::kTimedOut:
        why = "did not finish within " + Seconds(options_.timeout) + " s";
        break;
      case ProcessResult::End::kTooMuch:
        why =
            "wrote more than " + std::to_string(options_.max_output) + " bytes";
        break;
      case ProcessResult::End::kCancelled:
        return Failure("cancelled", what + ": cancelled");
      case ProcessResult::End::kNotStarted:
        why = "could not be started: " + run.error;
        break;
    }
    if (!why.empty()) {
      std::string stderr_text = Printable(run.stderr_text, 512);
      if (!stderr_text.empty()) why += "; stderr: " + stderr_text;
      return Failure("ExternalProcessFailed", what + " " + why);
    }
    return Prefixed(what, ParseExternalCredentials(run.stdout_text));
  }

  std::string Type() const override { return "external"; }

 private:
  const ExternalOptions options_;
  ProcessRunner& processes_;
};

}  // namespace

std::unique_ptr<CredentialsFetcher> MakeExternalFetcher(
    ExternalOptions options, ProcessRunner& processes) {
  return std::make_unique<ExternalFetcher>(std::move(options), processes);
}

std::unique_ptr<CredentialsFetcher> MakeStaticFetcher(Credentials credentials,
                                                      std::string type) {
  return std::make_unique<StaticFetcher>(std::move(credentials),
                                         std::move(type));
}

std::unique_ptr<CredentialsFetcher> MakeAssumeRoleFetcher(
    StsOptions options, CredentialsProvider& source,
    aliyun::HttpTransport& transport, const Clock& clock, NonceSource& nonces) {
  return std::make_unique<AssumeRoleFetcher>(std::move(options), source,
                                             transport, clock, nonces);
}

std::unique_ptr<CredentialsFetcher> MakeOidcFetcher(
    OidcOptions options, const FileSystem& files,
    aliyun::HttpTransport& transport, const Clock& clock, NonceSource& nonces) {
  return std::make_unique<OidcFetcher>(std::move(options), files, transport,
                                       clock, nonces);
}

std::unique_ptr<CredentialsFetcher> MakeEcsRamRoleFetcher(
    EcsMetadataOptions options, aliyun::HttpTransport& transport) {
  return std::make_unique<EcsRamRoleFetcher>(std::move(options), transport);
}

std::unique_ptr<CredentialsFetcher> MakeCredentialsUriFetcher(
    std::string uri, aliyun::HttpTransport& transport) {
  return std::make_unique<CredentialsUriFetcher>(std::move(uri), transport);
}

}  // namespace sas::credentials
