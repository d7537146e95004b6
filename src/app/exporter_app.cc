#include "app/exporter_app.h"

#include <prometheus/registry.h>

#include <atomic>
#include <map>
#include <mutex>
#include <ostream>

#include "aliyun/sas_client.h"
#include "app/account_check.h"
#include "credentials/factory.h"
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
#include "util/periodic_worker.h"
#include "util/sleeper.h"
#include "util/token_bucket.h"
#include "web/status_page.h"

namespace sas::app {
namespace {

// How long Start() waits for every account's first credentials before
// polling anyway (accounts without credentials then fail their polls, with
// code "credentials", until a refresh succeeds).
constexpr std::chrono::seconds kFirstCredentialsWait{30};

// How often task files are checked for changes.
constexpr Millis kTaskFileScanPeriod{2'000};

// How often the tasks' lifecycle is written to the state file (and at stop).
constexpr Millis kStateSavePeriod{5'000};

struct Account {
  std::unique_ptr<aliyun::HttpTransport> transport;
  std::unique_ptr<TokenBucket> bucket;
  std::unique_ptr<aliyun::SasClient> client;
  aliyun::Endpoint endpoint;
  // The first configured task, for --check.accounts.
  std::optional<aliyun::ExportQuery> first_task;
  bool discover_backup_exports = false;
};

}  // namespace

struct ExporterApp::Impl {
  Impl(const config::Config& config, AppOptions options, Seams seams);
  web::WebHandlers Handlers(bool enable_task_api);

  const Seams seams;
  const config::ExporterConfig exporter_config;
  prometheus::Registry registry;
  metrics::ApiMetrics api_metrics{registry};
  metrics::CredentialMetrics credential_metrics{registry};
  metrics::AccountMetrics account_metrics{registry};
  poll::TaskStore store;
  InterruptibleSleeper sleeper;
  std::unique_ptr<credentials::ProviderSet> providers;
  credentials::CredentialsRefresher refresher{seams.clock};
  std::map<std::string, Account> accounts;
  std::unique_ptr<poll::Poller> poller;
  std::unique_ptr<discovery::TaskRegistry> tasks;
  std::unique_ptr<discovery::TaskFileWatcher> task_files;
  std::unique_ptr<discovery::TaskApi> task_api;
  std::unique_ptr<discovery::BackUpExportDiscovery> backup_discovery;
  metrics::ExporterMetrics exporter_metrics{registry};
  metrics::Exposition exposition{registry, store};
  const std::string telemetry_path;
  std::string state_file;
  std::unique_ptr<PeriodicWorker> saver;
  // Latched by the readiness handler.
  std::atomic<bool> ready{false};

  void SaveState();
  web::WebServer web;
};

ExporterApp::Impl::Impl(const config::Config& config, AppOptions options,
                        Seams seams)
    : seams(std::move(seams)),
      exporter_config(config.exporter),
      store(exporter_config.finished_retention),
      telemetry_path(options.web.telemetry_path),
      web(std::move(options.web), Handlers(options.enable_task_api)) {}

void ExporterApp::Impl::SaveState() {
  std::string error;
  if (!poll::SaveStateFile(seams.files, state_file, store.Snapshot(), &error)) {
    log::Error("Cannot write the state file", {{"err", error}});
  }
}

web::WebHandlers ExporterApp::Impl::Handlers(bool enable_task_api) {
  web::WebHandlers handlers;
  handlers.metrics = [this] {
    account_metrics.SetDemand(store.ActiveTasksByAccount(),
                              exporter_config.poll_interval);
    return exposition.Render();
  };
  // Ready once the tasks known at start have all been polled, and from then
  // on: a registration later must not make a readiness probe flap.
  handlers.ready = [this] {
    if (ready.load(std::memory_order_relaxed)) return true;
    if (!store.AllPolledOnce()) return false;
    ready.store(true, std::memory_order_relaxed);
    return true;
  };
  handlers.status_page = [this] {
    return web::RenderStatusPage(store.Snapshot(), seams.clock.Now(),
                                 telemetry_path);
  };
  if (enable_task_api) {
    handlers.task_api = [this](const web::ApiCall& call) {
      discovery::ApiResponse response =
          task_api->Handle({call.method, call.path, call.query, call.body});
      return web::ApiReply{response.status, response.body};
    };
  }
  return handlers;
}

ExporterApp::ExporterApp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ExporterApp::~ExporterApp() {
  if (impl_) Stop();
}

std::unique_ptr<ExporterApp> ExporterApp::Create(const config::Config& config,
                                                 AppOptions options,
                                                 Seams seams,
                                                 std::string* error) {
  const bool enable_task_api = options.enable_task_api;
  const std::string storage_path = options.storage_path;
  const bool load_state = options.load_state;
  const poll::Sharding sharding = options.sharding;
  auto impl =
      std::make_unique<Impl>(config, std::move(options), std::move(seams));
  Impl& app = *impl;
  const Seams& world = app.seams;
  const config::ExporterConfig& exporter = config.exporter;
  std::string user_agent = aliyun::DefaultUserAgent(
      world.environment.Get("ALIBABA_CLOUD_USER_AGENT").value_or(""));

  credentials::ProviderDeps deps{world.clock, world.nonces, world.environment,
                                 world.files};
  deps.observer = &app.credential_metrics;
  deps.user_agent = user_agent;
  deps.connect_timeout = exporter.connect_timeout;
  deps.request_timeout = exporter.request_timeout;
  deps.make_transport = [make = world.make_transport](Millis connect,
                                                      Millis request) {
    aliyun::TransportOptions options;
    options.connect_timeout = connect;
    options.request_timeout = request;
    return make(options);
  };
  std::vector<credentials::AccountCredentials> account_credentials;
  for (const config::AccountConfig& account : config.accounts) {
    account_credentials.push_back({account.name, account.region,
                                   account.network, account.credentials,
                                   account.credential_endpoints});
  }
  app.providers =
      credentials::ProviderSet::Build(account_credentials, deps, error);
  if (!app.providers) return nullptr;

  std::map<std::string, poll::AccountHandle> handles;
  for (const config::AccountConfig& account_config : config.accounts) {
    Account account;
    aliyun::TransportOptions transport_options;
    transport_options.connect_timeout = exporter.connect_timeout;
    transport_options.request_timeout = exporter.request_timeout;
    transport_options.ca_file = account_config.ca_file;
    account.transport = world.make_transport(transport_options);
    // Replicas share the account's API quota: each takes its part.
    const double rate = account_config.max_requests_per_second / sharding.total;
    account.bucket = std::make_unique<TokenBucket>(rate, rate, world.clock);
    account.endpoint = account_config.endpoint;
    account.discover_backup_exports = account_config.discover_backup_exports;
    aliyun::SasClientOptions client_options;
    client_options.account = account_config.name;
    client_options.endpoint = account_config.endpoint;
    client_options.signature_version = account_config.signature_version;
    client_options.retry.max_retries = exporter.max_retries;
    client_options.user_agent = user_agent;
    account.client = std::make_unique<aliyun::SasClient>(
        client_options, *account.transport,
        *app.providers->For(account_config.name), world.clock, world.nonces,
        app.sleeper, account.bucket.get(), &app.api_metrics);
    app.api_metrics.AddAccount(account_config.name);
    app.account_metrics.AddAccount(account_config.name, rate);
    handles[account_config.name] = {account.client.get(), account.bucket.get()};
    app.accounts.emplace(account_config.name, std::move(account));
  }
  app.poller = std::make_unique<poll::Poller>(
      poll::PollerOptions{exporter.poll_interval, exporter.concurrency,
                          &app.account_metrics},
      app.store, std::move(handles), world.clock);
  app.state_file = storage_path + "/state.json";
  poll::RememberedTasks remembered;
  std::string state_error;
  if (!load_state) {
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

  std::set<std::string> account_names;
  for (const auto& account : config.accounts)
    account_names.insert(account.name);
  app.tasks = std::make_unique<discovery::TaskRegistry>(
      app.store, *app.poller, world.clock, account_names,
      static_cast<size_t>(exporter.max_tasks), sharding);
  app.exporter_metrics.SetShard(sharding.shard, sharding.total);
  for (const config::TaskConfig& task : config.tasks) {
    discovery::TaskEntry entry{task.account, task.export_id, task.rd_account_id,
                               task.name,    std::nullopt,   task.action};
    if (app.tasks->Add("config", entry) ==
        discovery::TaskRegistry::AddResult::kTooMany) {
      *error = "more [[task]] entries than max_tasks (" +
               std::to_string(exporter.max_tasks) + ")";
      return nullptr;
    }
    Account& account = app.accounts.at(task.account);
    if (!account.first_task) {
      account.first_task =
          aliyun::ExportQuery{task.action, task.export_id, task.rd_account_id};
    }
  }
  std::vector<discovery::BackUpAccount> listed_accounts;
  for (auto& [name, account] : app.accounts) {
    if (account.discover_backup_exports) {
      listed_accounts.push_back(
          {name, account.client.get(), account.bucket.get()});
    }
  }
  if (!listed_accounts.empty()) {
    discovery::BackUpDiscoveryOptions listing;
    listing.interval = exporter.poll_interval;
    listing.finished_retention = exporter.finished_retention;
    app.backup_discovery = std::make_unique<discovery::BackUpExportDiscovery>(
        listing, std::move(listed_accounts), *app.tasks, app.store, world.clock,
        app.sleeper);
  }
  if (!exporter.task_files.empty()) {
    Impl* raw = &app;
    app.task_files = std::make_unique<discovery::TaskFileWatcher>(
        world.files, exporter.task_files, *app.tasks,
        [raw](const std::string& file) {
          raw->exporter_metrics.TaskFileError(file);
        });
  }
  if (enable_task_api) {
    app.task_api = std::make_unique<discovery::TaskApi>(
        world.files, *app.tasks, app.store, storage_path);
    std::string load_error;
    if (load_state && !app.task_api->Load(&load_error)) {
      log::Error("Registered tasks could not be loaded; starting without them",
                 {{"err", load_error}});
    }
  }
  return std::unique_ptr<ExporterApp>(new ExporterApp(std::move(impl)));
}

bool ExporterApp::Start(std::string* error) {
  for (credentials::RefreshingProvider* provider : impl_->providers->All()) {
    impl_->refresher.Add(provider);
  }
  if (!impl_->refresher.WaitForFirstFetches(kFirstCredentialsWait)) {
    log::Warn("Some accounts have no credentials yet; polling anyway",
              {{"waited", FormatDuration(kFirstCredentialsWait)}});
  }
  if (!impl_->web.Start(error)) return false;
  if (impl_->task_files) impl_->task_files->Start(kTaskFileScanPeriod);
  impl_->tasks->StartPolling();
  impl_->poller->Start();
  if (impl_->backup_discovery) impl_->backup_discovery->Start();
  Impl* app = impl_.get();
  app->saver = std::make_unique<PeriodicWorker>(kStateSavePeriod,
                                                [app] { app->SaveState(); });
  log::Info("Polling started",
            {{"tasks", std::to_string(impl_->tasks->size())},
             {"shard", std::to_string(impl_->tasks->sharding().shard)},
             {"total_shards", std::to_string(impl_->tasks->sharding().total)},
             {"accounts", std::to_string(impl_->accounts.size())},
             {"poll_interval",
              FormatDuration(impl_->exporter_config.poll_interval)}});
  return true;
}

void ExporterApp::Stop() {
  impl_->sleeper.Stop();
  impl_->providers->CancelAll();
  for (auto& [name, account] : impl_->accounts) account.transport->CancelAll();
  impl_->refresher.Stop();
  if (impl_->backup_discovery) impl_->backup_discovery->Stop();
  if (impl_->task_files) impl_->task_files->Stop();
  impl_->poller->Stop();
  impl_->web.Stop();
  if (impl_->saver) {
    impl_->saver.reset();
    impl_->SaveState();
  }
}

const std::vector<std::string>& ExporterApp::listen_addresses() const {
  return impl_->web.bound_addresses();
}

bool ExporterApp::CheckAccounts(std::ostream& out) {
  auto check_deadline = [this] {
    return impl_->seams.clock.SteadyNow() +
           impl_->exporter_config.request_timeout *
               (impl_->exporter_config.max_retries + 1);
  };
  std::vector<AccountCheck> rows;
  bool all_ok = true;
  for (auto& [name, account] : impl_->accounts) {
    credentials::RefreshingProvider* provider = impl_->providers->For(name);
    AccountCheck row{name, "", account.endpoint.Url(), "ok", "", ""};
    aliyun::CredentialsResult credentials = provider->Refresh();
    row.provider = provider->Type();
    if (!credentials.credentials) {
      row.result = "credentials failed";
      row.code = credentials.error_code;
      row.message = credentials.error_message;
    } else if (!account.first_task && account.discover_backup_exports) {
      aliyun::BackUpListResult call =
          account.client->ListBackUpExports(1, 1, check_deadline());
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
    } else if (!account.first_task) {
      row.result = "ok (credentials only: no task to call with)";
    } else {
      aliyun::CallResult call =
          account.client->DescribeExport(*account.first_task, check_deadline());
      if (!call.ok()) {
        row.result =
            std::string(aliyun::ExportActionName(account.first_task->action)) +
            " failed";
        row.code = call.error().code;
        row.message = call.error().message;
      } else {
        row.message = "export " +
                      std::to_string(account.first_task->export_id) + ": " +
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
