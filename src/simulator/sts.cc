#include "simulator/sts.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace sas::simulator {
namespace {

constexpr std::string_view kNoPermission =
    "You are not authorized to do this action. You should be authorized by "
    "RAM.";

// The first non-empty value of `name`, or nullptr.
const std::string* Param(const aliyun::Params& params, std::string_view name) {
  const std::string* value = aliyun::FindParam(params, name);
  return value != nullptr && !value->empty() ? value : nullptr;
}

ApiError Missing(std::string_view name) {
  return {400, "MissingParameter",
          "The input parameter \"" + std::string(name) +
              "\" that is mandatory for processing this request is not "
              "supplied."};
}

ApiError WronglyFormed(std::string_view name) {
  return {400, "InvalidParameter." + std::string(name),
          "The parameter " + std::string(name) + " is wrongly formed."};
}

bool IsSessionNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '@' || c == '_' || c == '-';
}

}  // namespace

Sts::Sts(const Scenario& scenario, CredentialStore& store, RandomSource& random)
    : scenario_(scenario), store_(store), random_(random) {}

bool Sts::CheckCommon(const aliyun::Params& params, std::string* role_arn,
                      std::string* session, int64_t* duration_seconds,
                      ApiError* error) const {
  const std::string* arn = Param(params, "RoleArn");
  if (arn == nullptr) {
    *error = Missing("RoleArn");
    return false;
  }
  if (!ParseRamArn(*arn, "role")) {
    *error = WronglyFormed("RoleArn");
    return false;
  }
  *role_arn = *arn;
  const std::string* name = Param(params, "RoleSessionName");
  if (name == nullptr) {
    *error = Missing("RoleSessionName");
    return false;
  }
  if (name->size() < 2 || name->size() > 64 ||
      !std::all_of(name->begin(), name->end(), IsSessionNameChar)) {
    *error = {400, "InvalidParameter.RoleSessionName",
              "The parameter RoleSessionName is wrongly formed: 2 to 64 of "
              "A-Z a-z 0-9 . @ _ -."};
    return false;
  }
  *session = *name;
  *duration_seconds = 0;
  if (const std::string* text = Param(params, "DurationSeconds")) {
    int64_t value = 0;
    auto [end, ec] =
        std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() ||
        value < kMinDurationSeconds) {
      *error = {400, "InvalidParameter.DurationSeconds",
                "The Min/Max value of DurationSeconds is 900 seconds/the "
                "role's maximum session duration."};
      return false;
    }
    *duration_seconds = value;
  }
  if (const std::string* policy = Param(params, "Policy")) {
    if (!nlohmann::json::accept(*policy)) {
      *error = {400, "InvalidParameter.PolicyGrammar",
                "The parameter Policy has not passed grammar check."};
      return false;
    }
  }
  return true;
}

const RoleSpec* Sts::FindRole(const std::string& role_arn,
                              ApiError* error) const {
  const RoleSpec* role = scenario_.FindRole(role_arn);
  if (role == nullptr) {
    *error = {404, "EntityNotExist.Role",
              "The role not exists: " + role_arn + "."};
  }
  return role;
}

StsOutcome Sts::AssumeRole(const aliyun::Params& params,
                           const std::string& caller) {
  StsOutcome outcome;
  std::string role_arn, session;
  int64_t duration_seconds = 0;
  if (!CheckCommon(params, &role_arn, &session, &duration_seconds,
                   &outcome.error)) {
    return outcome;
  }
  const RoleSpec* role = FindRole(role_arn, &outcome.error);
  if (role == nullptr) return outcome;
  if (std::find(role->trusted_principals.begin(),
                role->trusted_principals.end(),
                caller) == role->trusted_principals.end()) {
    outcome.error = {403, "NoPermission", std::string(kNoPermission)};
    return outcome;
  }
  if (role->external_id) {
    const std::string* external_id = Param(params, "ExternalId");
    if (external_id == nullptr || *external_id != *role->external_id) {
      outcome.error = {403, "NoPermission", std::string(kNoPermission)};
      return outcome;
    }
  }
  return Issue(*role, session, duration_seconds);
}

StsOutcome Sts::AssumeRoleWithOidc(const aliyun::Params& params) {
  StsOutcome outcome;
  const std::string* provider = Param(params, "OIDCProviderArn");
  const std::string* token = Param(params, "OIDCToken");
  std::string role_arn, session;
  int64_t duration_seconds = 0;
  if (!CheckCommon(params, &role_arn, &session, &duration_seconds,
                   &outcome.error)) {
    return outcome;
  }
  if (provider == nullptr) {
    outcome.error = Missing("OIDCProviderArn");
    return outcome;
  }
  if (!ParseRamArn(*provider, "oidc-provider")) {
    outcome.error = WronglyFormed("OIDCProviderArn");
    return outcome;
  }
  if (token == nullptr) {
    outcome.error = Missing("OIDCToken");
    return outcome;
  }
  const RoleSpec* role = FindRole(role_arn, &outcome.error);
  if (role == nullptr) return outcome;
  if (role->oidc_provider_arn != *provider) {
    outcome.error = {403, "NoPermission", std::string(kNoPermission)};
    return outcome;
  }
  if (std::find(role->oidc_tokens.begin(), role->oidc_tokens.end(), *token) ==
      role->oidc_tokens.end()) {
    outcome.error = {400, "InvalidParameter.OIDCToken",
                     "The OIDCToken is invalid or has expired."};
    return outcome;
  }
  return Issue(*role, session, duration_seconds);
}

StsOutcome Sts::Issue(const RoleSpec& role, const std::string& session,
                      int64_t duration_seconds) {
  StsOutcome outcome;
  int64_t max_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(role.max_duration)
          .count();
  if (duration_seconds == 0) {
    duration_seconds = std::min(kDefaultDurationSeconds, max_seconds);
  }
  if (duration_seconds > max_seconds) {
    outcome.error = {400, "InvalidParameter.DurationSeconds",
                     "The Min/Max value of DurationSeconds is 900/" +
                         std::to_string(max_seconds) + " seconds."};
    return outcome;
  }
  std::chrono::seconds lifetime(duration_seconds);
  if (scenario_.sts_credential_lifetime) {
    lifetime =
        std::min(lifetime, std::chrono::duration_cast<std::chrono::seconds>(
                               *scenario_.sts_credential_lifetime));
  }
  outcome.ok = true;
  outcome.credentials = store_.Issue(role.arn, lifetime);
  outcome.assumed_role_arn = "acs:ram::" + role.parsed.account_id +
                             ":assumed-role/" + role.parsed.name + "/" +
                             session;
  outcome.assumed_role_id =
      std::to_string(random_.NextU64() % 900'000'000'000'000'000ULL +
                     100'000'000'000'000'000ULL) +
      ":" + session;
  return outcome;
}

}  // namespace sas::simulator
