#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aliyun/http.h"
#include "aliyun/request.h"
#include "aliyun/credentials.h"
#include "util/duration.h"
#include "util/environment.h"
#include "util/file_system.h"

namespace sas::config {

// Where a value was written, for messages: "file:line:column".
struct SourcePosition {
  std::string file;
  int line = 0;
  int column = 0;
};

// One problem found while loading a configuration. Messages name the key by
// its full path ("account[2].credentials.access_key_secret_env"; array
// elements count from 1) and never contain a secret.
struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  SourcePosition position;
  std::string message;

  // "file:line:column: message" (warnings: "file:line:column: warning: ...").
  std::string ToString() const;
};

// The bounds of the [exporter] durations. Values outside are refused at
// load time, so no duration the poller adds to a clock can overflow it.
inline constexpr Millis kMinPollInterval{100};
inline constexpr Millis kMaxPollInterval{24 * 3'600'000};  // 24h
// request_timeout and connect_timeout: longer than 0s, at most 10m.
inline constexpr Millis kMaxTimeout{10 * 60'000};
// finished_retention: 0s up to 8760h (a year).
inline constexpr Millis kMaxFinishedRetention{int64_t{8760} * 3'600'000};

// [exporter]: global behaviour. Defaults as documented.
struct ExporterConfig {
  // How often each task is polled; kMinPollInterval..kMaxPollInterval.
  Millis poll_interval{60'000};
  int concurrency = 4;  // API requests in flight, all accounts; 1..256
  Millis request_timeout{10'000};  // one HTTP attempt; > 0, <= kMaxTimeout
  Millis connect_timeout{5'000};   // > 0, <= kMaxTimeout
  int max_retries = 2;  // extra attempts for retryable failures; 0..10
  // How long a finished export stays exposed; 0..kMaxFinishedRetention.
  Millis finished_retention{3'600'000};
  // Paths or glob patterns of JSON task files (file_sd style), re-read when
  // they change.
  std::vector<std::string> task_files;
  // Tasks tracked at most, all sources together; 1..1,000,000.
  int max_tasks = 10'000;
};

// [account.credentials]: where an account's credentials come from. Without
// the table, type is "default" (the official chain). Secrets given inline
// (literal, *_env or *_file) are resolved at load time; files named for
// later reading (oidc_token_file, cli_profile and credentials_file paths)
// are read by the providers.
struct CredentialsConfig {
  // "access_key", "ram_role_arn", "ecs_ram_role", "oidc_role_arn",
  // "cli_profile", "credentials_file", "credentials_uri" or "default".
  std::string type = "default";
  // True when [account.credentials] was absent.
  bool from_environment = false;

  // access_key: the keys. ram_role_arn: the inline source keys, when
  // has_inline_source.
  aliyun::Credentials static_credentials;
  bool has_inline_source = false;

  // ram_role_arn: the [[account]] whose credentials assume the role, when
  // not inline ("" otherwise). Never the account itself; no cycles.
  std::string source_account;
  // ram_role_arn, oidc_role_arn: "acs:ram::<account id>:role/<name>".
  std::string role_arn;
  // ram_role_arn, oidc_role_arn: 2-64 of [A-Za-z0-9.@_-]; default
  // ALIBABA_CLOUD_ROLE_SESSION_NAME or "aliyun_sas_exporter".
  std::string role_session_name = "aliyun_sas_exporter";
  // ram_role_arn, oidc_role_arn: DurationSeconds, 15m..12h, default 1h.
  Millis duration{3'600'000};
  std::string policy;       // ram_role_arn: optional
  std::string external_id;  // ram_role_arn: optional

  std::string role_name;          // ecs_ram_role: "" = discover
  bool imds_v1_disabled = false;  // ecs_ram_role

  std::string oidc_provider_arn;  // oidc_role_arn
  std::string oidc_token_file;    // oidc_role_arn: path, re-read per refresh

  // cli_profile: the profile ("" = ALIBABA_CLOUD_PROFILE, else the file's
  // `current`). credentials_file: the section ("" = ALIBABA_CLOUD_PROFILE,
  // else "default").
  std::string profile;
  // cli_profile / credentials_file: the file ("" = the official default:
  // ALIBABA_CLOUD_CONFIG_FILE or ~/.aliyun/config.json;
  // ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials).
  std::string file;

  std::string uri;  // credentials_uri: http:// or https://

  // Overrides of the STS and metadata service endpoints (tests point them at
  // the simulator; http:// allowed). nullopt = from region and network.
  std::optional<aliyun::Endpoint> sts_endpoint;
  std::optional<aliyun::Endpoint> metadata_endpoint;

  // The [account.credentials] table, or the [[account]] when
  // from_environment.
  SourcePosition position;
};

// One [[account]].
struct AccountConfig {
  std::string name;           // the `account` label; unique
  std::string region;         // "" when only endpoint is given
  aliyun::Endpoint endpoint;  // from endpoint, else from region and network
  // "public" (default) or "vpc": VPC endpoints for Security Center and STS.
  std::string network = "public";
  aliyun::SignatureVersion signature_version = aliyun::SignatureVersion::kV3;
  double max_requests_per_second = 5;  // > 0 and <= 10000
  // "" for none; extra trust beside the system store. Checked readable at
  // load time.
  std::string ca_file;
  CredentialsConfig credentials;
  SourcePosition position;
};

// One [[task]].
struct TaskConfig {
  std::string account;                   // names an [[account]]
  int64_t export_id = 0;                 // > 0
  std::optional<int64_t> rd_account_id;  // ResourceDirectoryAccountId, > 0
  std::string name;                      // default: the export id in decimal
  SourcePosition position;
};

struct Config {
  ExporterConfig exporter;
  std::vector<AccountConfig> accounts;
  std::vector<TaskConfig> tasks;
};

struct LoadResult {
  // Set when there were no errors (warnings allowed).
  std::optional<Config> config;
  // Errors and warnings, in file order.
  std::vector<Diagnostic> diagnostics;

  bool ok() const { return config.has_value(); }
};

// Parses and validates a configuration. `path` names the file in messages
// and locates it for the permission check; secrets named by *_env and *_file
// are resolved through env and files.
LoadResult ParseConfig(std::string_view toml_text, const std::string& path,
                       const Environment& env, const FileSystem& files);

// Reads `path` through files, then ParseConfig. An unreadable file is one
// error whose ToString() is "path: cannot read: <reason>".
LoadResult LoadConfigFile(const std::string& path, const Environment& env,
                          const FileSystem& files);

}  // namespace sas::config
