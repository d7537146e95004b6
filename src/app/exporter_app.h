#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "app/seams.h"
#include "config/config.h"
#include "poll/shard.h"
#include "web/server.h"

namespace sas::app {

struct AppOptions {
  // --config.file: what Reload() reads.
  std::string config_file;
  web::WebOptions web;
  // --web.enable-task-api: serve POST/GET/DELETE /api/v1/tasks.
  bool enable_task_api = false;
  // --web.enable-lifecycle: serve POST and PUT /-/reload.
  bool enable_lifecycle = false;
  // --storage.path: where tasks registered through the API and the tasks'
  // lifecycle (state.json) are kept.
  std::string storage_path = "data";
  // Read the state file (false for --config.check and --check.accounts,
  // which must not set a broken one aside).
  bool load_state = true;
  // --shard and --total-shards: poll only the tasks this shard owns, from
  // every source, at 1/total of each account's max_requests_per_second
  // (already validated: see poll::ShardingProblem).
  poll::Sharding sharding;
};

// The exporter, wired from a validated configuration: per-account
// credentials, clients and rate limits, the task store, the poller, the
// metrics and the web server. Start/Stop from one thread; Reload from any
// thread, also while Start or Stop runs.
class ExporterApp {
 public:
  ~ExporterApp();

  // Builds everything on `seams` (ProductionSeams() in the program, fakes in
  // tests); keeps nothing of `config` beyond the call. nullptr with *error
  // when an account's credentials cannot be set up (an unreadable CLI
  // profile, a missing credentials-file section, ...).
  static std::unique_ptr<ExporterApp> Create(const config::Config& config,
                                             AppOptions options, Seams seams,
                                             std::string* error);

  // Fetches every account's credentials (waiting at most `credentials_wait`
  // for the first fetches), then starts serving and polling; false with
  // *error when a listener fails.
  bool Start(std::string* error);
  // Stops promptly: cancels requests in flight and joins every thread.
  void Stop();

  // Re-reads options.config_file (SIGHUP, POST /-/reload) and applies it in
  // place, or nothing of it. It must pass every check Create makes (those
  // of --config.check). Tasks that stay (same account,
  // rd_account_id, action and export_id) keep their state, clocks, series
  // and slot; removed ones stop being polled and lose their series; new
  // ones are polled at once. Accounts whose table or files changed, and
  // every account when connect_timeout, request_timeout or max_retries
  // changed, get a new client and credentials (their first fetch is
  // awaited, at most 30 s); the others keep theirs. Polls under way finish
  // with the account they started with; results for removed tasks are
  // dropped. Sets the config_last_reload metrics and logs the outcome.
  // False with *error (the problems, one a line, "file:line:col: ..."; no
  // secrets) when the running configuration stays in force. Reloads are
  // serialised.
  bool Reload(std::string* error);

  const std::vector<std::string>& listen_addresses() const;

  // --check.accounts: resolves every account's credentials and makes one
  // progress-API call per account (its first task, if any), printing
  // a table to `out`. True when every account succeeded.
  bool CheckAccounts(std::ostream& out);

 private:
  struct Impl;
  explicit ExporterApp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sas::app
