#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aliyun/http.h"
#include "aliyun/request.h"
#include "credentials/credentials.h"
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

// [exporter]: global behaviour. Defaults as documented.
struct ExporterConfig {
  Millis poll_interval{60'000};  // how often each task is polled; >= 100ms
  int concurrency = 4;           // API requests in flight, all accounts; 1..256
  Millis request_timeout{10'000};  // one HTTP attempt; > 0
  Millis connect_timeout{5'000};   // > 0
  int max_retries = 2;  // extra attempts for retryable failures; 0..10
  Millis finished_retention{
      3'600'000};  // how long a finished export stays exposed; >= 0
};

// [account.credentials] of type "access_key", or the environment variables
// ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN when the table is
// absent. Values are resolved (literal, *_env or *_file) at load time.
struct CredentialsConfig {
  std::string type = "access_key";
  // True when [account.credentials] was absent and the environment was used.
  bool from_environment = false;
  credentials::Credentials static_credentials;
  // The [account.credentials] table, or the [[account]] when
  // from_environment.
  SourcePosition position;
};

// One [[account]].
struct AccountConfig {
  std::string name;           // the `account` label; unique
  std::string region;         // "" when only endpoint is given
  aliyun::Endpoint endpoint;  // from endpoint, else from region
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
