#pragma once

// [account.credentials]: where an account's credentials come from, one
// struct per `type`. Secrets given inline (literal, *_env or *_file) are
// resolved at load time; files named for later reading (oidc_token_file,
// the cli_profile and credentials_file paths) are read by the providers.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "aliyun/credentials.h"
#include "aliyun/http.h"
#include "util/diagnostic.h"
#include "util/duration.h"

namespace sas {
class Environment;
class FileSystem;
class TomlReader;
struct TomlField;
}  // namespace sas

namespace sas::config {

// [[account]] network: which endpoint of Security Center is used (STS's is
// chosen by sts_region and the environment; see credentials::ProviderSet).
enum class Network {
  kPublic,  // "public" (default): the Internet endpoints
  kVpc,     // "vpc": the VPC endpoints
};

// type = "access_key" (the default when the table is present).
struct AccessKeyCredentials {
  static constexpr std::string_view kType = "access_key";
  aliyun::Credentials keys;  // never expires
  bool operator==(const AccessKeyCredentials&) const = default;
};

// type = "ram_role_arn": AssumeRole with the keys written in the table, or
// with another account's credentials.
struct RamRoleArnCredentials {
  static constexpr std::string_view kType = "ram_role_arn";
  // The keys written in the table; nullopt when source_account is set.
  std::optional<aliyun::Credentials> source_keys;
  // The [[account]] whose credentials assume the role, when the keys are not
  // written here ("" otherwise). Never the account itself; no cycles.
  std::string source_account;
  std::string role_arn;  // "acs:ram::<account id>:role/<name>"
  // 2-64 of [A-Za-z0-9.@_-]; default ALIBABA_CLOUD_ROLE_SESSION_NAME or
  // "aliyun_sas_exporter".
  std::string role_session_name = "aliyun_sas_exporter";
  Millis duration{std::chrono::hours(1)};  // DurationSeconds, 15m..12h
  std::string policy;                      // a JSON object; "" = none
  std::string external_id;                 // "" = none
  bool operator==(const RamRoleArnCredentials&) const = default;
};

// type = "ecs_ram_role": the ECS instance's role from the metadata service.
struct EcsRamRoleCredentials {
  static constexpr std::string_view kType = "ecs_ram_role";
  std::string role_name;  // "" = ask the metadata service
  bool imds_v1_disabled = false;
  bool operator==(const EcsRamRoleCredentials&) const = default;
};

// type = "oidc_role_arn": AssumeRoleWithOIDC (RRSA).
struct OidcRoleArnCredentials {
  static constexpr std::string_view kType = "oidc_role_arn";
  std::string role_arn;           // "acs:ram::<account id>:role/<name>"
  std::string oidc_provider_arn;  // "...:oidc-provider/<name>"
  std::string oidc_token_file;    // re-read at every refresh
  std::string role_session_name = "aliyun_sas_exporter";  // as above
  Millis duration{std::chrono::hours(1)};  // DurationSeconds, 15m..12h
  bool operator==(const OidcRoleArnCredentials&) const = default;
};

// type = "cli_profile": a profile of the Alibaba Cloud CLI's config.json.
struct CliProfileCredentials {
  static constexpr std::string_view kType = "cli_profile";
  // "" = ALIBABA_CLOUD_PROFILE, else the file's `current`.
  std::string profile;
  // "" = ALIBABA_CLOUD_CONFIG_FILE or ~/.aliyun/config.json.
  std::string file;
  bool operator==(const CliProfileCredentials&) const = default;
};

// type = "credentials_file": a section of the official credentials file.
struct CredentialsFileCredentials {
  static constexpr std::string_view kType = "credentials_file";
  // "" = ALIBABA_CLOUD_PROFILE, else "default".
  std::string profile;
  // "" = ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials.
  std::string file;
  bool operator==(const CredentialsFileCredentials&) const = default;
};

// type = "credentials_uri": a URL answering with credentials.
struct CredentialsUriCredentials {
  static constexpr std::string_view kType = "credentials_uri";
  std::string uri;  // http:// or https://
  bool operator==(const CredentialsUriCredentials&) const = default;
};

// type = "default", or no [account.credentials] table: the official default
// chain, resolved by the provider at run time.
struct DefaultCredentials {
  static constexpr std::string_view kType = "default";
  // True when [account.credentials] was absent.
  bool from_environment = false;
  bool operator==(const DefaultCredentials&) const = default;
};

// One alternative per `type`, each alternative's kType. A
// default-constructed CredentialsConfig is the default chain.
using CredentialsConfig =
    std::variant<DefaultCredentials, AccessKeyCredentials,
                 RamRoleArnCredentials, EcsRamRoleCredentials,
                 OidcRoleArnCredentials, CliProfileCredentials,
                 CredentialsFileCredentials, CredentialsUriCredentials>;

// The kType of the alternative credentials holds ("access_key", ...).
std::string_view CredentialsTypeName(const CredentialsConfig& credentials);

// sts_endpoint, metadata_endpoint and sts_region of [account.credentials],
// which every type accepts: overrides of the STS and metadata service
// endpoints (tests point them at the simulator; http:// allowed). nullopt =
// the official libraries' defaults (see credentials::ProviderSet::Build).
struct CredentialEndpoints {
  std::optional<aliyun::Endpoint> sts;
  std::optional<aliyun::Endpoint> metadata;
  // sts_region: the region of the STS endpoint ("sts.<region>.aliyuncs.com",
  // as the official libraries' stsRegionId); "" = a CLI profile's
  // sts_region, else ALIBABA_CLOUD_STS_REGION, else sts.aliyuncs.com. Not
  // together with sts_endpoint.
  std::string sts_region;
  bool operator==(const CredentialEndpoints&) const = default;
};

// Reads the [account.credentials] tables of one configuration through
// reader, reporting every problem there, then checks the source_account
// references across accounts. Not thread-safe; one per load.
class CredentialsLoader {
 public:
  // `env` and `files` resolve *_env and *_file secrets and check
  // oidc_token_file; literal secrets draw a warning when reader.file() can
  // be read by others.
  CredentialsLoader(TomlReader& reader, const Environment& env,
                    const FileSystem& files);

  struct Loaded {
    CredentialsConfig credentials;
    CredentialEndpoints endpoints;
    // The [account.credentials] table, or the [[account]] without one.
    SourcePosition position;
  };
  // `field`: the account's "credentials" key; absent means the default
  // chain. `account`: the account's name ("" when it has none that is
  // valid); `account_position`: where the [[account]] starts.
  Loaded Load(const TomlField& field, const std::string& account,
              const SourcePosition& account_position);

  // After every account: each source_account names an account of
  // `account_lines` (valid names -> line of definition) and the references
  // form no cycle.
  void CheckSourceAccounts(const std::map<std::string, int>& account_lines);

 private:
  class TableLoader;
  // A ram_role_arn's source_account, checked once every account is known.
  struct SourceReference {
    std::string account;  // the referring account's name ("" if invalid)
    std::string source;   // the account it names
    SourcePosition position;
    std::string path;  // of the source_account key
  };

  bool ConfigReadableByOthers();

  TomlReader& reader_;
  const Environment& env_;
  const FileSystem& files_;
  std::optional<bool> readable_by_others_;
  std::vector<SourceReference> source_references_;
};

}  // namespace sas::config
