#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aliyun/export_action.h"
#include "aliyun/http.h"
#include "aliyun/request.h"
#include "config/credentials_config.h"
#include "util/diagnostic.h"
#include "util/duration.h"
#include "util/environment.h"
#include "util/file_system.h"

namespace sas::config {

// Where a value was written, and one problem found while loading a
// configuration. Messages name the key by its full path
// ("account[2].credentials.access_key_secret_env"; array elements count
// from 1) and never contain a secret.
using SourcePosition = ::sas::SourcePosition;
using Diagnostic = ::sas::Diagnostic;

// The bounds of the [exporter] durations. Values outside are refused at
// load time, so no duration the poller adds to a clock can overflow it.
inline constexpr Millis kMinPollInterval{100};
inline constexpr Millis kMaxPollInterval{std::chrono::hours(24)};
// request_timeout and connect_timeout: longer than 0s, at most 10m.
inline constexpr Millis kMaxTimeout{10 * 60'000};
// finished_retention: 0s up to 8760h (a year).
inline constexpr Millis kMaxFinishedRetention{std::chrono::hours(8760)};

// [exporter]: global behaviour. Defaults as documented.
struct ExporterConfig {
  // How often each task is polled; kMinPollInterval..kMaxPollInterval.
  Millis poll_interval{60'000};
  int concurrency = 4;  // API requests in flight, all accounts; 1..256
  Millis request_timeout{10'000};  // one HTTP attempt; > 0, <= kMaxTimeout
  Millis connect_timeout{5'000};   // > 0, <= kMaxTimeout
  int max_retries = 2;  // extra attempts for retryable failures; 0..10
  // How long a finished export stays exposed; 0..kMaxFinishedRetention.
  Millis finished_retention{std::chrono::hours(1)};
  // Paths or glob patterns of JSON task files (file_sd style), re-read when
  // they change.
  std::vector<std::string> task_files;
  // Tasks tracked at most, all sources together; 1..1,000,000.
  int max_tasks = 10'000;
};

// One [[account]].
struct AccountConfig {
  std::string name;           // the `account` label; unique
  std::string region;         // "" when only endpoint is given
  aliyun::Endpoint endpoint;  // from endpoint, else from region and network
  Network network = Network::kPublic;
  aliyun::SignatureVersion signature_version = aliyun::SignatureVersion::kV3;
  double max_requests_per_second = 5;  // > 0 and <= 10000
  // Track every archived suspicious-event export DescribeBackUpExportInfo
  // lists, as tasks of that action (source "discovered").
  bool discover_backup_exports = false;
  // "" for none; extra trust beside the system store. Checked readable at
  // load time.
  std::string ca_file;
  // [account.credentials]; without the table, the default chain
  // (DefaultCredentials with from_environment).
  CredentialsConfig credentials;
  CredentialEndpoints credential_endpoints;
  // The [account.credentials] table, or the [[account]] without one.
  SourcePosition credentials_position;
  SourcePosition position;
};

// One [[task]].
struct TaskConfig {
  std::string account;  // names an [[account]]
  // The progress API to poll (`action = "DescribeVulExportInfo"`); default
  // DescribeExportInfo.
  aliyun::ExportAction action = aliyun::kDefaultExportAction;
  int64_t export_id = 0;  // > 0
  // ResourceDirectoryAccountId, > 0; only for actions with
  // HasMemberAccountParameter.
  std::optional<int64_t> rd_account_id;
  std::string name;  // default: the export id in decimal
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
