#include "app/exporter_app.h"

#include <prometheus/registry.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <vector>

#include "aliyun/sas_client.h"
#include "app/account_check.h"
#include "app/accounts.h"
#include "discovery/backup_discovery.h"
#include "discovery/task_api.h"
#include "discovery/task_file_watcher.h"
#include "discovery/task_registry.h"
#include "metrics/account_metrics.h"
#include "metrics/api_metrics.h"
#include "metrics/credential_metrics.h"
#include "metrics/exporter_metrics.h"
#include "metrics/exposition.h"
#include "poll/poller.h"
#include "poll/state_file.h"
#include "poll/task_store.h"
#include "util/log.h"
#include "util/memory.h"
#include "util/periodic_worker.h"
#include "util/shared_run.h"
#include "util/sleeper.h"
#include "web/status_page.h"

namespace sas::app {
namespace {

// How long Start() and Reload() wait for new accounts' first credentials
// before polling anyway (accounts without credentials then fail their
// polls, with code "credentials", until a refresh succeeds).
constexpr std::chrono::seconds kFirstCredentialsWait{30};

// How often task files are checked for changes.
constexpr Millis kTaskFileScanPeriod{2'000};

// How often the tasks' lifecycle is written to the state file (and at stop).
constexpr Millis kStateSavePeriod{5'000};

std::set<std::string> AccountNames(const config::Config& config) {
  std::set<std::string> names;
  for (const auto& account : config.accounts) names.insert(account.name);
  return names;
}

std::vector<discovery::TaskEntry> ConfigEntries(const config::Config& config) {
  std::vector<discovery::TaskEntry> entries;
  for (const config::TaskConfig& task : config.tasks) {
    entries.push_back({task.account, task.export_id, task.rd_account_id,
                       task.name, std::nullopt, task.action});
  }
  return entries;
}

// The accounts whose archived exports are listed (discover_backup_exports).
std::vector<discovery::BackUpAccount> ListedAccounts(
    const config::Config& config, const Accounts& accounts) {
  std::vector<discovery::BackUpAccount> listed;
  for (const config::AccountConfig& account : config.accounts) {
    if (!account.discover_backup_exports) continue;
    const std::shared_ptr<Account>& built = accounts.at(account.name);
    listed.push_back(
        {account.name, built->client.get(), built->bucket.get(), built});
  }
  return listed;
}

std::map<std::string, poll::AccountHandle> Handles(const Accounts& accounts) {
  std::map<std::string, poll::AccountHandle> handles;
  for (const auto& [name, account] : accounts) {
    handles[name] = Account::Handle(account);
  }
  return handles;
}

// The checks Create makes beyond loading: "" when the configuration can
// run.
std::string TaskCountProblem(const config::Config& config) {
  if (config.tasks.size() <= static_cast<size_t>(config.exporter.max_tasks)) {
    return "";
  }
  return "more [[task]] entries than max_tasks (" +
         std::to_string(config.exporter.max_tasks) + ")";
}

}  // namespace

struct ExporterApp::Impl {
  Impl(const config::Config& config, AppOptions options, Seams seams);
  web::WebHandlers Handlers(bool enable_task_api, bool enable_lifecycle);
  AccountDeps Deps();
  // Starts the refreshers of `accounts` and waits for their first fetches,
  // at most kFirstCredentialsWait or until Stop. False when some are
  // missing.
  bool StartRefreshing(const std::vector<Account*>& accounts);
  // ExporterApp::Reload; `by` names the trigger in the log.
  bool Reload(const std::string& by, std::string* error);
  // Reload() without the metrics and the outcome's log line.
  bool ReloadLocked(std::string* error);
  // Creates or reconfigures the listing of archived exports for `config`
  // and the current accounts.
  void SetUpBackUpDiscovery(const config::Config& config);
  // Applies a configuration that passed every check; cannot fail.
  void Apply(const config::Config& config, Accounts accounts);
  void SaveState();
  // The demanded request rate per account, shown on the page.
  void UpdateDemand();

  const Seams seams;
  const AppOptions options;
  const std::string user_agent;
  prometheus::Registry registry;
  metrics::ApiMetrics api_metrics{registry};
  metrics::CredentialMetrics credential_metrics{registry};
  metrics::AccountMetrics account_metrics{registry};
  metrics::ExporterMetrics exporter_metrics{registry};
  poll::TaskStore store;
  InterruptibleSleeper sleeper;
  // Before the poller and the accounts, whose transports it outlives.
  EventLoop poll_loop;
  std::unique_ptr<poll::Poller> poller;
  std::unique_ptr<discovery::TaskRegistry> tasks;
  std::unique_ptr<discovery::TaskApi> task_api;
  metrics::Exposition exposition{registry, store};
  // Scrapes that arrive together share one rendering of each encoding.
  SharedRun<std::string> text_page{[this] {
    UpdateDemand();
    std::string page = exposition.Render();
    ReleaseFreeMemory();
    return page;
  }};
  SharedRun<std::string> gzip_page{[this] {
    UpdateDemand();
    std::string page = exposition.RenderGzip();
    ReleaseFreeMemory();
    return page;
  }};
  std::string state_file;
  std::unique_ptr<PeriodicWorker> saver;
  // Latched by the readiness handler.
  std::atomic<bool> ready{false};
  // The tasks known when polling started (config, state, task files and
  // the task API) not yet seen polled; nullopt before Start.
  std::mutex first_polls_mutex;
  std::optional<std::vector<poll::TaskId>> awaited_first_polls;
  // Set first thing in Stop: a reload waiting for credentials gives up.
  std::atomic<bool> stopping{false};

  // Serialises Start, Stop and reloads.
  std::mutex lifecycle_mutex;
  // Guarded by lifecycle_mutex.
  config::ExporterConfig exporter_config;
  // exporter_config.poll_interval in milliseconds, for scrapes, which must
  // not wait for a reload.
  std::atomic<Millis::rep> poll_interval_ms{0};
  Accounts accounts;
  std::unique_ptr<discovery::TaskFileWatcher> task_files;
  std::unique_ptr<discovery::BackUpExportDiscovery> backup_discovery;
  bool started = false;
  bool stopped = false;

  web::WebServer web;
};

ExporterApp::Impl::Impl(const config::Config& config, AppOptions options_in,
                        Seams seams_in)
    : seams(std::move(seams_in)),
      options(options_in),
      user_agent(aliyun::DefaultUserAgent(
          seams.environment.Get("ALIBABA_CLOUD_USER_AGENT").value_or(""))),
      store(config.exporter.finished_retention),
      exporter_config(config.exporter),
      poll_interval_ms(config.exporter.poll_interval.count()),
      web(std::move(options_in.web),
          Handlers(options.enable_task_api, options.enable_lifecycle)) {}

AccountDeps ExporterApp::Impl::Deps() {
  return AccountDeps{seams,        sleeper,
                     &api_metrics, &credential_metrics,
                     user_agent,   options.sharding.total,
                     &poll_loop};
}

void ExporterApp::Impl::UpdateDemand() {
  account_metrics.SetDemand(
      store.ActiveTasksByAccount(),
      Millis(poll_interval_ms.load(std::memory_order_relaxed)));
}

void ExporterApp::Impl::SaveState() {
  std::string error;
  if (!poll::SaveStateFile(seams.files, state_file, store.Snapshot(), &error)) {
    log::Error("Cannot write the state file", {{"err", error}});
  }
  ReleaseFreeMemory();
}

web::WebHandlers ExporterApp::Impl::Handlers(bool enable_task_api,
                                             bool enable_lifecycle) {
  web::WebHandlers handlers;
  handlers.metrics = [this](bool accepts_gzip) {
    if (accepts_gzip) return web::MetricsPage{gzip_page.Get(), true};
    return web::MetricsPage{text_page.Get(), false};
  };
  // Ready once the tasks known at start have all been polled (or gone),
  // and from then on: tasks registered later neither delay readiness nor
  // make a readiness probe flap.
  handlers.ready = [this] {
    if (ready.load(std::memory_order_relaxed)) return true;
    std::lock_guard lock(first_polls_mutex);
    if (!awaited_first_polls || !store.PolledOrGone(&*awaited_first_polls)) {
      return false;
    }
    ready.store(true, std::memory_order_relaxed);
    return true;
  };
  handlers.status_page = [this] {
    return web::RenderStatusPage(store.Snapshot(), seams.clock.Now(),
                                 options.web.telemetry_path, options.sharding);
  };
  if (enable_task_api) {
    handlers.task_api = [this](const web::ApiCall& call) {
      discovery::ApiResponse response =
          task_api->Handle({call.method, call.path, call.query, call.body});
      return web::ApiReply{response.status, response.body};
    };
  }
  if (enable_lifecycle) {
    handlers.reload = [this](std::string* error) {
      return Reload("POST /-/reload", error);
    };
  }
  return handlers;
}

bool ExporterApp::Impl::StartRefreshing(const std::vector<Account*>& started) {
  for (Account* account : started) account->refresher->Add(account->provider);
  auto deadline = std::chrono::steady_clock::now() + kFirstCredentialsWait;
  for (Account* account : started) {
    // In slices, so that Stop does not wait for a slow credential source.
    while (!account->refresher->WaitForFirstFetches(
        std::chrono::milliseconds(100))) {
      if (stopping.load() || std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
    }
  }
  return true;
}

void ExporterApp::Impl::SetUpBackUpDiscovery(const config::Config& config) {
  std::vector<discovery::BackUpAccount> listed =
      ListedAccounts(config, accounts);
  const config::ExporterConfig& exporter = config.exporter;
  if (backup_discovery) {
    backup_discovery->Reconfigure(std::move(listed), exporter.poll_interval,
                                  exporter.finished_retention);
    return;
  }
  if (listed.empty()) return;
  discovery::BackUpDiscoveryOptions listing;
  listing.interval = exporter.poll_interval;
  listing.finished_retention = exporter.finished_retention;
  backup_discovery = std::make_unique<discovery::BackUpExportDiscovery>(
      listing, std::move(listed), *tasks, store, seams.clock, sleeper);
  if (started && !stopped) backup_discovery->Start();
}

ExporterApp::ExporterApp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ExporterApp::~ExporterApp() {
  if (impl_) Stop();
}

std::unique_ptr<ExporterApp> ExporterApp::Create(const config::Config& config,
                                                 AppOptions options,
                                                 Seams seams,
                                                 std::string* error) {
  auto impl = std::make_unique<Impl>(config, options, std::move(seams));
  Impl& app = *impl;
  const Seams& world = app.seams;
  const config::ExporterConfig& exporter = config.exporter;
  if (std::string problem = TaskCountProblem(config); !problem.empty()) {
    *error = problem;
    return nullptr;
  }
  // Building the accounts reads the files credentials come from, so
  // --config.check catches their problems too.
  std::optional<Accounts> accounts =
      BuildAccounts(config, {}, app.Deps(), error);
  if (!accounts) return nullptr;
  app.accounts = std::move(*accounts);
  for (const auto& [name, account] : app.accounts) {
    app.api_metrics.AddAccount(name);
    app.account_metrics.AddAccount(name, account->bucket_rate);
  }
  app.poller = std::make_unique<poll::Poller>(
      poll::PollerOptions{exporter.poll_interval, exporter.concurrency,
                          &app.account_metrics, &app.poll_loop},
      app.store, Handles(app.accounts), world.clock);
  app.state_file = options.storage_path + "/state.json";
  poll::RememberedTasks remembered;
  std::string state_error;
  if (!options.load_state) {
    // Checks only: leave the state file alone.
  } else if (poll::LoadStateFile(world.files, app.state_file, &remembered,
                                 &state_error)) {
    app.store.Remember(std::move(remembered));
  } else {
    app.exporter_metrics.StateLoadError();
    log::Error(
        "STATE FILE UNREADABLE: task clocks (first seen, last "
        "progress) start afresh",
        {{"err", state_error}});
  }

  app.tasks = std::make_unique<discovery::TaskRegistry>(
      app.store, *app.poller, world.clock, AccountNames(config),
      static_cast<size_t>(exporter.max_tasks), options.sharding);
  app.exporter_metrics.SetShard(options.sharding.shard, options.sharding.total);
  // Cannot be refused: every account exists and the count was checked.
  app.tasks->Replace("config", ConfigEntries(config));
  app.SetUpBackUpDiscovery(config);
  if (!exporter.task_files.empty()) {
    Impl* raw = &app;
    app.task_files = std::make_unique<discovery::TaskFileWatcher>(
        world.files, exporter.task_files, *app.tasks,
        [raw](const std::string& file) {
          raw->exporter_metrics.TaskFileError(file);
        });
  }
  if (options.enable_task_api) {
    app.task_api = std::make_unique<discovery::TaskApi>(
        world.files, *app.tasks, app.store, options.storage_path);
    std::string load_error;
    if (options.load_state && !app.task_api->Load(&load_error)) {
      log::Error("Registered tasks could not be loaded; starting without them",
                 {{"err", load_error}});
    }
  }
  app.exporter_metrics.ConfigLoaded(true, world.clock.Now());
  return std::unique_ptr<ExporterApp>(new ExporterApp(std::move(impl)));
}

bool ExporterApp::Start(std::string* error) {
  Impl& app = *impl_;
  std::lock_guard lock(app.lifecycle_mutex);
  std::vector<Account*> accounts;
  for (const auto& [name, account] : app.accounts) {
    accounts.push_back(account.get());
  }
  if (!app.StartRefreshing(accounts)) {
    log::Warn("Some accounts have no credentials yet; polling anyway",
              {{"waited", FormatDuration(kFirstCredentialsWait)}});
  }
  if (!app.web.Start(error)) return false;
  if (app.task_files) app.task_files->Start(kTaskFileScanPeriod);
  {
    std::lock_guard first_polls_lock(app.first_polls_mutex);
    app.awaited_first_polls = app.store.Ids();
  }
  app.tasks->StartPolling();
  app.poller->Start();
  if (app.backup_discovery) app.backup_discovery->Start();
  Impl* raw = impl_.get();
  app.saver = std::make_unique<PeriodicWorker>(kStateSavePeriod,
                                               [raw] { raw->SaveState(); });
  app.started = true;
  log::Info(
      "Polling started",
      {{"tasks", std::to_string(app.tasks->size())},
       {"shard", std::to_string(app.tasks->sharding().shard)},
       {"total_shards", std::to_string(app.tasks->sharding().total)},
       {"accounts", std::to_string(app.accounts.size())},
       {"poll_interval", FormatDuration(app.exporter_config.poll_interval)}});
  return true;
}

void ExporterApp::Stop() {
  Impl& app = *impl_;
  app.stopping = true;
  // First, so that no reload request is under way below.
  app.web.Stop();
  std::lock_guard lock(app.lifecycle_mutex);
  app.stopped = true;
  app.sleeper.Stop();
  for (auto& [name, account] : app.accounts) account->CancelAll();
  for (auto& [name, account] : app.accounts) account->refresher->Stop();
  if (app.backup_discovery) app.backup_discovery->Stop();
  if (app.task_files) app.task_files->Stop();
  app.poller->Stop();
  if (app.saver) {
    app.saver.reset();
    app.SaveState();
  }
}

bool ExporterApp::Reload(std::string* error) {
  return impl_->Reload("SIGHUP", error);
}

bool ExporterApp::Impl::Reload(const std::string& by, std::string* error) {
  log::Info("Reloading the configuration",
            {{"config", options.config_file}, {"by", by}});
  bool ok = ReloadLocked(error);
  exporter_metrics.ConfigLoaded(ok, seams.clock.Now());
  if (ok) {
    log::Info("Configuration reloaded", {{"config", options.config_file}});
  } else {
    log::Error(
        "Configuration reload failed; the running configuration stays in "
        "force",
        {{"config", options.config_file}, {"err", *error}});
  }
  return ok;
}

bool ExporterApp::Impl::ReloadLocked(std::string* error) {
  std::lock_guard lock(lifecycle_mutex);
  if (stopped) {
    *error = "the exporter is stopping";
    return false;
  }
  config::LoadResult loaded = config::LoadConfigFile(
      options.config_file, seams.environment, seams.files);
  std::string problems;
  for (const config::Diagnostic& diagnostic : loaded.diagnostics) {
    if (diagnostic.severity == config::Diagnostic::Severity::kError) {
      if (!problems.empty()) problems += "\n";
      problems += diagnostic.ToString();
    } else {
      log::Warn("Configuration warning", {{"err", diagnostic.ToString()}});
    }
  }
  if (!loaded.ok()) {
    *error = problems;
    return false;
  }
  const config::Config& config = *loaded.config;
  if (std::string problem = TaskCountProblem(config); !problem.empty()) {
    *error = options.config_file + ": " + problem;
    return false;
  }
  std::optional<Accounts> built =
      BuildAccounts(config, accounts, Deps(), error);
  if (!built) {
    *error = options.config_file + ": " + *error;
    return false;
  }
  Apply(config, std::move(*built));
  return true;
}

void ExporterApp::Impl::Apply(const config::Config& config,
                              Accounts new_accounts) {
  std::vector<Account*> renewed;
  std::vector<std::string> names;  // of the accounts built afresh
  for (const auto& [name, account] : new_accounts) {
    auto it = accounts.find(name);
    if (it == accounts.end() || it->second != account) {
      renewed.push_back(account.get());
      names.push_back(name);
    }
  }
  // The accounts replaced or removed stop refreshing first, so that a
  // late refresh of theirs cannot overwrite their successor's metrics.
  bool accounts_added = false;
  for (const auto& [name, account] : accounts) {
    auto it = new_accounts.find(name);
    if (it != new_accounts.end() && it->second == account) continue;
    account->refresher->Stop();
    if (it == new_accounts.end()) credential_metrics.RemoveAccount(name);
  }
  for (const auto& [name, account] : new_accounts) {
    auto it = accounts.find(name);
    if (it == accounts.end()) {
      accounts_added = true;
      api_metrics.AddAccount(name);
    }
    if (it == accounts.end() || it->second != account) {
      account_metrics.AddAccount(name, account->bucket_rate);
    }
  }
  if (started && !StartRefreshing(renewed)) {
    log::Warn("Some accounts have no credentials yet; polling anyway",
              {{"waited", FormatDuration(kFirstCredentialsWait)}});
  }

  const config::ExporterConfig& exporter = config.exporter;
  poller->Reconfigure(exporter.poll_interval, Handles(new_accounts));
  poller->SetConcurrency(exporter.concurrency);
  store.SetFinishedRetention(exporter.finished_retention);
  for (const poll::TaskKey& key : tasks->Reconfigure(
           AccountNames(config), static_cast<size_t>(exporter.max_tasks))) {
    log::Info("Task dropped: its account is no longer configured",
              {{"task", key.ToString()}});
  }
  std::vector<discovery::TaskEntry> entries = ConfigEntries(config);
  for (const std::string& problem : tasks->Replace("config", entries)) {
    log::Warn("Configured task skipped", {{"err", problem}});
  }
  // A staying task takes the name the configuration gives it now.
  for (const discovery::TaskEntry& entry : entries) {
    store.Rename(entry.Key(), entry.Definition().name);
  }
  const bool account_names_changed =
      accounts_added || accounts.size() != new_accounts.size();
  if (task_files) {
    // Files are re-read when accounts come or go: their entries for those
    // accounts were skipped or dropped.
    if (exporter_config.task_files != exporter.task_files ||
        account_names_changed) {
      task_files->SetPatterns(exporter.task_files);
    }
  } else if (!exporter.task_files.empty()) {
    Impl* raw = this;
    task_files = std::make_unique<discovery::TaskFileWatcher>(
        seams.files, exporter.task_files, *tasks,
        [raw](const std::string& file) {
          raw->exporter_metrics.TaskFileError(file);
        });
    if (started && !stopped) task_files->Start(kTaskFileScanPeriod);
  }
  if (task_api && accounts_added) task_api->RegisterStored();

  std::string renewed_names;
  for (const std::string& name : names) {
    renewed_names += (renewed_names.empty() ? "" : ",") + name;
  }
  log::Info("Configuration applied",
            {{"accounts", std::to_string(new_accounts.size())},
             {"accounts_renewed", renewed_names},
             {"tasks", std::to_string(tasks->size())},
             {"poll_interval", FormatDuration(exporter.poll_interval)}});
  // Accounts dropped here are freed by the last poll still using them.
  accounts = std::move(new_accounts);
  exporter_config = exporter;
  poll_interval_ms.store(exporter.poll_interval.count(),
                         std::memory_order_relaxed);
  SetUpBackUpDiscovery(config);
}

const std::vector<std::string>& ExporterApp::listen_addresses() const {
  return impl_->web.bound_addresses();
}

bool ExporterApp::CheckAccounts(std::ostream& out) {
  std::lock_guard lock(impl_->lifecycle_mutex);
  const config::ExporterConfig& exporter = impl_->exporter_config;
  auto check_deadline = [&] {
    return impl_->seams.clock.SteadyNow() +
           exporter.request_timeout * (exporter.max_retries + 1);
  };
  std::vector<AccountCheck> rows;
  bool all_ok = true;
  for (auto& [name, account] : impl_->accounts) {
    credentials::RefreshingProvider* provider = account->provider;
    AccountCheck row{name, "", account->config.endpoint.Url(), "ok", "", ""};
    aliyun::CredentialsResult credentials = provider->Refresh();
    row.provider = provider->Type();
    if (!credentials.credentials) {
      row.result = "credentials failed";
      row.code = credentials.error_code;
      row.message = credentials.error_message;
    } else if (!account->first_task &&
               account->config.discover_backup_exports) {
      aliyun::BackUpListResult call =
          account->client->ListBackUpExports(1, 1, check_deadline());
      if (!call.ok()) {
        row.result = "DescribeBackUpExportInfo failed";
        row.code = call.error().code;
        row.message = call.error().message;
      } else {
        row.message =
            "archived exports: " +
            (call.page().total_count ? std::to_string(*call.page().total_count)
                                     : std::string("(no count)"));
      }
    } else if (!account->first_task) {
      row.result = "ok (credentials only: no task to call with)";
    } else {
      aliyun::CallResult call = account->client->DescribeExport(
          *account->first_task, check_deadline());
      if (!call.ok()) {
        row.result =
            std::string(aliyun::ExportActionName(account->first_task->action)) +
            " failed";
        row.code = call.error().code;
        row.message = call.error().message;
      } else {
        row.message = "export " +
                      std::to_string(account->first_task->export_id) + ": " +
                      call.info().export_status.value_or("(no status)");
      }
    }
    if (!row.code.empty()) all_ok = false;
    rows.push_back(std::move(row));
  }
  PrintAccountChecks(rows, out);
  return all_ok;
}

}  // namespace sas::app
