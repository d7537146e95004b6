#include "app/exporter_app.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <iomanip>
#include <map>
#include <mutex>
#include <ostream>

#include "aliyun/httplib_transport.h"
#include "aliyun/sas_client.h"
#include "credentials/factory.h"
#include "discovery/task_api.h"
#include "discovery/task_file_watcher.h"
#include "discovery/task_registry.h"
#include "metrics/api_metrics.h"
#include "metrics/credential_metrics.h"
#include "metrics/exposition.h"
#include "poll/poller.h"
#include "poll/state_file.h"
#include "poll/task_store.h"
#include "util/environment.h"
#include "util/log.h"
#include "util/nonce.h"
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
};

}  // namespace

struct ExporterApp::Impl {
  explicit Impl(const config::Config& config, AppOptions options);
  web::WebHandlers Handlers(bool enable_task_api);

  const config::ExporterConfig exporter_config;
  prometheus::Registry registry;
  metrics::ApiMetrics api_metrics{registry};
  metrics::CredentialMetrics credential_metrics{registry};
  poll::TaskStore store;
  std::unique_ptr<NonceSource> nonces = MakeRandomNonceSource();
  InterruptibleSleeper sleeper;
  std::unique_ptr<credentials::ProviderSet> providers;
  credentials::CredentialsRefresher refresher{RealClock()};
  std::map<std::string, Account> accounts;
  std::unique_ptr<poll::Poller> poller;
  std::unique_ptr<discovery::TaskRegistry> tasks;
  std::unique_ptr<discovery::TaskFileWatcher> task_files;
  std::unique_ptr<discovery::TaskApi> task_api;
  prometheus::Family<prometheus::Counter>& task_file_errors =
      prometheus::BuildCounter()
          .Name("aliyun_sas_exporter_task_file_errors_total")
          .Help(
              "Times a task file could not be read or parsed; its last "
              "good content stays in use.")
          .Register(registry);
  prometheus::Family<prometheus::Counter>& state_load_errors =
      prometheus::BuildCounter()
          .Name("aliyun_sas_exporter_state_load_errors_total")
          .Help(
              "Times the state file could not be read at start; it was set "
              "aside and the exporter started afresh.")
          .Register(registry);
  metrics::Exposition exposition{registry, store};
  const std::string telemetry_path;
  std::string state_file;
  std::unique_ptr<PeriodicWorker> saver;

  void SaveState();
  web::WebServer web;
};

ExporterApp::Impl::Impl(const config::Config& config, AppOptions options)
    : exporter_config(config.exporter),
      store(exporter_config.finished_retention),
      telemetry_path(options.web.telemetry_path),
      web(std::move(options.web), Handlers(options.enable_task_api)) {}

void ExporterApp::Impl::SaveState() {
  std::string error;
  if (!poll::SaveStateFile(LocalFileSystem(), state_file, store.Snapshot(),
                           &error)) {
    log::Error("Cannot write the state file", {{"err", error}});
  }
}

web::WebHandlers ExporterApp::Impl::Handlers(bool enable_task_api) {
  web::WebHandlers handlers;
  handlers.metrics = [this] { return exposition.Render(); };
  handlers.ready = [this] { return store.AllPolledOnce(); };
  handlers.status_page = [this] {
    return web::RenderStatusPage(store.Snapshot(), RealClock().Now(),
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
                                                 std::string* error) {
  const bool enable_task_api = options.enable_task_api;
  const std::string storage_path = options.storage_path;
  const bool load_state = options.load_state;
  auto impl = std::make_unique<Impl>(config, std::move(options));
  Impl& app = *impl;
  const config::ExporterConfig& exporter = config.exporter;
  std::string user_agent = aliyun::DefaultUserAgent(
      ProcessEnvironment().Get("ALIBABA_CLOUD_USER_AGENT").value_or(""));

  credentials::ProviderDeps deps{RealClock(), *app.nonces, ProcessEnvironment(),
                                 LocalFileSystem()};
  deps.observer = &app.credential_metrics;
  deps.user_agent = user_agent;
  deps.connect_timeout = exporter.connect_timeout;
  deps.request_timeout = exporter.request_timeout;
  deps.make_transport = [](Millis connect, Millis request) {
    aliyun::TransportOptions options;
    options.connect_timeout = connect;
    options.request_timeout = request;
    return aliyun::MakeHttplibTransport(options, ProcessEnvironment());
  };
  app.providers = credentials::ProviderSet::Build(config, deps, error);
  if (!app.providers) return nullptr;

  std::map<std::string, poll::AccountHandle> handles;
  for (const config::AccountConfig& account_config : config.accounts) {
    Account account;
    aliyun::TransportOptions transport_options;
    transport_options.connect_timeout = exporter.connect_timeout;
    transport_options.request_timeout = exporter.request_timeout;
    transport_options.ca_file = account_config.ca_file;
    account.transport =
        aliyun::MakeHttplibTransport(transport_options, ProcessEnvironment());
    account.bucket = std::make_unique<TokenBucket>(
        account_config.max_requests_per_second,
        account_config.max_requests_per_second, RealClock());
    account.endpoint = account_config.endpoint;
    aliyun::SasClientOptions client_options;
    client_options.account = account_config.name;
    client_options.endpoint = account_config.endpoint;
    client_options.signature_version = account_config.signature_version;
    client_options.retry.max_retries = exporter.max_retries;
    client_options.user_agent = user_agent;
    account.client = std::make_unique<aliyun::SasClient>(
        client_options, *account.transport,
        *app.providers->For(account_config.name), RealClock(), *app.nonces,
        app.sleeper, account.bucket.get(), &app.api_metrics);
    app.api_metrics.AddAccount(account_config.name);
    handles[account_config.name] = {account.client.get(), account.bucket.get()};
    app.accounts.emplace(account_config.name, std::move(account));
  }
  app.poller = std::make_unique<poll::Poller>(
      poll::PollerOptions{exporter.poll_interval, exporter.concurrency},
      app.store, std::move(handles), RealClock());
  app.state_file = storage_path + "/state.json";
  app.state_load_errors.Add({});
  poll::RememberedTasks remembered;
  std::string state_error;
  if (!load_state) {
    // Checks only: leave the state file alone.
  } else if (poll::LoadStateFile(LocalFileSystem(), app.state_file, &remembered,
                                 &state_error)) {
    app.store.Remember(std::move(remembered));
  } else {
    app.state_load_errors.Add({}).Increment();
    log::Error(
        "STATE FILE UNREADABLE: task clocks (first seen, last "
        "progress) start afresh",
        {{"err", state_error}});
  }

  std::set<std::string> account_names;
  for (const auto& account : config.accounts)
    account_names.insert(account.name);
  app.tasks = std::make_unique<discovery::TaskRegistry>(
      app.store, *app.poller, RealClock(), account_names,
      static_cast<size_t>(exporter.max_tasks));
  for (const config::TaskConfig& task : config.tasks) {
    discovery::TaskEntry entry{task.account, task.export_id, task.rd_account_id,
                               task.name, std::nullopt};
    if (app.tasks->Add("config", entry) ==
        discovery::TaskRegistry::AddResult::kTooMany) {
      *error = "more [[task]] entries than max_tasks (" +
               std::to_string(exporter.max_tasks) + ")";
      return nullptr;
    }
    Account& account = app.accounts.at(task.account);
    if (!account.first_task) {
      account.first_task =
          aliyun::ExportQuery{task.export_id, task.rd_account_id};
    }
  }
  if (!exporter.task_files.empty()) {
    Impl* raw = &app;
    app.task_files = std::make_unique<discovery::TaskFileWatcher>(
        LocalFileSystem(), exporter.task_files, *app.tasks,
        [raw](const std::string& file) {
          raw->task_file_errors.Add({{"file", file}}).Increment();
        });
  }
  if (enable_task_api) {
    app.task_api = std::make_unique<discovery::TaskApi>(
        LocalFileSystem(), *app.tasks, app.store, storage_path);
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
  Impl* app = impl_.get();
  app->saver = std::make_unique<PeriodicWorker>(kStateSavePeriod,
                                                [app] { app->SaveState(); });
  log::Info("Polling started",
            {{"tasks", std::to_string(impl_->tasks->size())},
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
  struct Row {
    std::string account, provider, endpoint, result, code, message;
  };
  std::vector<Row> rows;
  bool all_ok = true;
  for (auto& [name, account] : impl_->accounts) {
    credentials::RefreshingProvider* provider = impl_->providers->For(name);
    Row row{name, "", account.endpoint.Url(), "ok", "", ""};
    aliyun::CredentialsResult credentials = provider->Refresh();
    row.provider = provider->Type();
    if (!credentials.credentials) {
      row.result = "credentials failed";
      row.code = credentials.error_code;
      row.message = credentials.error_message;
    } else if (!account.first_task) {
      row.result = "ok (credentials only: no task to call with)";
    } else {
      aliyun::CallResult call = account.client->DescribeExportInfo(
          *account.first_task,
          RealClock().SteadyNow() +
              impl_->exporter_config.request_timeout *
                  (impl_->exporter_config.max_retries + 1));
      if (!call.ok()) {
        row.result = "DescribeExportInfo failed";
        row.code = call.error().code;
        row.message = call.error().message;
      } else {
        row.message = "export " +
                      std::to_string(account.first_task->export_id) + ": " +
                      call.info().export_status;
      }
    }
    if (!row.code.empty()) all_ok = false;
    rows.push_back(std::move(row));
  }
  const char* headers[] = {"ACCOUNT", "PROVIDER", "ENDPOINT",
                           "RESULT",  "CODE",     "MESSAGE"};
  size_t widths[5] = {7, 8, 8, 6, 4};
  for (const Row& row : rows) {
    const std::string* cells[] = {&row.account, &row.provider, &row.endpoint,
                                  &row.result, &row.code};
    for (int i = 0; i < 5; ++i)
      widths[i] = std::max(widths[i], cells[i]->size());
  }
  auto print = [&](const std::string* cells[6]) {
    for (int i = 0; i < 5; ++i) {
      out << std::left << std::setw(static_cast<int>(widths[i] + 2))
          << *cells[i];
    }
    out << *cells[5] << "\n";
  };
  std::string header_cells[6];
  const std::string* header_ptrs[6];
  for (int i = 0; i < 6; ++i) {
    header_cells[i] = headers[i];
    header_ptrs[i] = &header_cells[i];
  }
  print(header_ptrs);
  for (const Row& row : rows) {
    const std::string* cells[6] = {&row.account, &row.provider, &row.endpoint,
                                   &row.result,  &row.code,     &row.message};
    print(cells);
  }
  return all_ok;
}

}  // namespace sas::app
