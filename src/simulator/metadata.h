#pragma once

// The simulated ECS instance metadata service: the IMDSv2 token and the
// instance RAM role's credentials, under /latest/.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "simulator/api_types.h"
#include "simulator/credential_store.h"
#include "simulator/random.h"
#include "simulator/scenario.h"
#include "util/clock.h"

namespace sas::simulator {

inline constexpr std::string_view kMetadataTokenPath = "/latest/api/token";
inline constexpr std::string_view kSecurityCredentialsPath =
    "/latest/meta-data/ram/security-credentials/";
inline constexpr std::string_view kMetadataTokenTtlHeader =
    "X-aliyun-ecs-metadata-token-ttl-seconds";
inline constexpr std::string_view kMetadataTokenHeader =
    "X-aliyun-ecs-metadata-token";

// Which metadata endpoint a /latest/ path is.
enum class MetadataRoute {
  kToken,        // /latest/api/token
  kCredentials,  // /latest/meta-data/ram/security-credentials/[<role>]
  kOther,        // anything else: 404
};
MetadataRoute RouteOf(std::string_view path);

// Answers /latest/ requests (see docs/simulator.md): PUT /latest/api/token
// issues a token for X-aliyun-ecs-metadata-token-ttl-seconds (1..21600);
// GET .../security-credentials/ lists the role, .../<role> issues fresh
// credentials for [metadata] role_arn, valid credential_lifetime. A token
// header, when sent, must hold an unexpired token (else 401); without one,
// 403 if require_token. Every answer without a [metadata] section is 404.
// Answers are text/plain, but the credentials document (JSON); codes for the
// stats: Success, BadRequest, Unauthorized, Forbidden, NotFound,
// MethodNotAllowed. Remembers at most kMaxTokens tokens (the soonest to
// expire are forgotten first). Thread-safe.
class MetadataService {
 public:
  static constexpr int64_t kMaxTokenTtlSeconds = 21600;
  static constexpr size_t kMaxTokens = 10'000;

  // All must outlive the service.
  MetadataService(const std::optional<MetadataSpec>& spec,
                  CredentialStore& store, const Clock& clock,
                  RandomSource& random);

  bool enabled() const { return spec_.has_value(); }
  ApiResponse Handle(const ApiRequest& request);

  // A plain-text answer (also for the service's failure switch).
  static ApiResponse Text(int status, std::string code, std::string body);

 private:
  ApiResponse IssueToken(const ApiRequest& request);
  // Nothing when the request may read credentials; otherwise the answer.
  std::optional<ApiResponse> CheckToken(const ApiRequest& request);

  const std::optional<MetadataSpec>& spec_;
  CredentialStore& store_;
  const Clock& clock_;
  RandomSource& random_;

  std::mutex mutex_;
  // Guarded by mutex_.
  std::unordered_map<std::string, SteadyTime> token_expiry_;
  std::multimap<SteadyTime, std::string> tokens_by_expiry_;
};

}  // namespace sas::simulator
