#pragma once

// The simulated STS (version 2015-04-01): AssumeRole and AssumeRoleWithOIDC
// as decisions over already-authenticated parameters. No I/O, no JSON.

#include <string>
#include <string_view>

#include "aliyun/signing.h"
#include "simulator/api_types.h"
#include "simulator/credential_store.h"
#include "simulator/random.h"
#include "simulator/scenario.h"

namespace sas::simulator {

inline constexpr std::string_view kStsVersion = "2015-04-01";
inline constexpr std::string_view kAssumeRole = "AssumeRole";
inline constexpr std::string_view kAssumeRoleWithOidc = "AssumeRoleWithOIDC";

// What an STS call concludes: an error, or credentials for the role.
struct StsOutcome {
  bool ok = false;
  ApiError error;  // when !ok
  IssuedCredentials credentials;
  // "acs:ram::<account id>:assumed-role/<role name>/<session name>"
  std::string assumed_role_arn;
  // "<18 digits>:<session name>"
  std::string assumed_role_id;
};

// Decides AssumeRole and AssumeRoleWithOIDC per the scenario's roles and
// issues credentials into the store (their principal is the role's ARN).
// Parameter checks come first, in the order of docs/simulator.md, then the
// role, trust/OIDC and duration checks. The lifetime is
// min(DurationSeconds, [sts] credential_lifetime). Thread-safe.
class Sts {
 public:
  // DurationSeconds bounds and default.
  static constexpr int64_t kMinDurationSeconds = 900;
  static constexpr int64_t kDefaultDurationSeconds = 3600;

  // All three must outlive the Sts.
  Sts(const Scenario& scenario, CredentialStore& store, RandomSource& random);

  // AssumeRole by `caller`, the verified principal (a long-lived AccessKeyId
  // or the role ARN of issued credentials), with the API's parameters.
  StsOutcome AssumeRole(const aliyun::Params& params,
                        const std::string& caller);
  // AssumeRoleWithOIDC (unsigned): the request's parameters.
  StsOutcome AssumeRoleWithOidc(const aliyun::Params& params);

 private:
  // RoleArn, RoleSessionName, DurationSeconds (when sent) and Policy (when
  // sent) well-formed; fills the role ARN, session and requested duration
  // (0 = not sent).
  bool CheckCommon(const aliyun::Params& params, std::string* role_arn,
                   std::string* session, int64_t* duration_seconds,
                   ApiError* error) const;
  // The scenario's role, or nullptr with *error EntityNotExist.Role.
  const RoleSpec* FindRole(const std::string& role_arn, ApiError* error) const;
  // DurationSeconds within the role's maximum, then issues.
  StsOutcome Issue(const RoleSpec& role, const std::string& session,
                   int64_t duration_seconds);

  const Scenario& scenario_;
  CredentialStore& store_;
  RandomSource& random_;
};

}  // namespace sas::simulator
