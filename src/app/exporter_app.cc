#include "app/exporter_app.h"

#include <prometheus/registry.h>

#include <map>

#include "aliyun/httplib_transport.h"
#include "aliyun/sas_client.h"
#include "metrics/api_metrics.h"
#include "metrics/exposition.h"
#include "poll/poller.h"
#include "poll/task_store.h"
#include "util/environment.h"
#include "util/log.h"
#include "util/nonce.h"
#include "util/sleeper.h"
#include "util/token_bucket.h"

namespace sas::app {
namespace {

struct Account {
  std::unique_ptr<aliyun::HttpTransport> transport;
  std::unique_ptr<credentials::CredentialsProvider> credentials;
  std::unique_ptr<TokenBucket> bucket;
  std::unique_ptr<aliyun::SasClient> client;
};

}  // namespace

struct ExporterApp::Impl {
  Impl(const config::Config& config, web::WebOptions web_options);

  const config::ExporterConfig exporter_config;
  prometheus::Registry registry;
  metrics::ApiMetrics api_metrics{registry};
  poll::TaskStore store;
  std::unique_ptr<NonceSource> nonces = MakeRandomNonceSource();
  InterruptibleSleeper sleeper;
  std::map<std::string, Account> accounts;
  std::unique_ptr<poll::Poller> poller;
  metrics::Exposition exposition{registry, store};
  web::WebServer web;
  std::vector<poll::TaskId> task_ids;
};

ExporterApp::Impl::Impl(const config::Config& config,
                        web::WebOptions web_options)
    : exporter_config(config.exporter),
      store(exporter_config.finished_retention),
      web(std::move(web_options),
          web::WebHandlers{[this] { return exposition.Render(); },
                           [this] { return store.AllPolledOnce(); }}) {
  std::string user_agent = aliyun::DefaultUserAgent(
      ProcessEnvironment().Get("ALIBABA_CLOUD_USER_AGENT").value_or(""));
  std::map<std::string, poll::AccountHandle> handles;
  for (const config::AccountConfig& account_config : config.accounts) {
    Account account;
    aliyun::TransportOptions transport_options;
    transport_options.connect_timeout = config.exporter.connect_timeout;
    transport_options.request_timeout = config.exporter.request_timeout;
    transport_options.ca_file = account_config.ca_file;
    account.transport =
        aliyun::MakeHttplibTransport(transport_options, ProcessEnvironment());
    account.credentials =
        std::make_unique<credentials::StaticCredentialsProvider>(
            account_config.credentials.static_credentials,
            account_config.credentials.type);
    account.bucket = std::make_unique<TokenBucket>(
        account_config.max_requests_per_second,
        account_config.max_requests_per_second, RealClock());
    aliyun::SasClientOptions client_options;
    client_options.account = account_config.name;
    client_options.endpoint = account_config.endpoint;
    client_options.signature_version = account_config.signature_version;
    client_options.retry.max_retries = config.exporter.max_retries;
    client_options.user_agent = user_agent;
    account.client = std::make_unique<aliyun::SasClient>(
        client_options, *account.transport, *account.credentials, RealClock(),
        *nonces, sleeper, account.bucket.get(), &api_metrics);
    api_metrics.AddAccount(account_config.name);
    handles[account_config.name] = {account.client.get(), account.bucket.get()};
    accounts.emplace(account_config.name, std::move(account));
  }
  poller = std::make_unique<poll::Poller>(
      poll::PollerOptions{config.exporter.poll_interval,
                          config.exporter.concurrency},
      store, std::move(handles), RealClock());
  for (const config::TaskConfig& task : config.tasks) {
    task_ids.push_back(store.Add(
        {{task.account, task.export_id, task.rd_account_id}, task.name}));
  }
}

ExporterApp::ExporterApp(const config::Config& config,
                         web::WebOptions web_options)
    : impl_(std::make_unique<Impl>(config, std::move(web_options))) {}

ExporterApp::~ExporterApp() { Stop(); }

bool ExporterApp::Start(std::string* error) {
  if (!impl_->web.Start(error)) return false;
  impl_->poller->ScheduleSpread(impl_->task_ids);
  impl_->poller->Start();
  log::Info("Polling started",
            {{"tasks", std::to_string(impl_->task_ids.size())},
             {"accounts", std::to_string(impl_->accounts.size())},
             {"poll_interval",
              FormatDuration(impl_->exporter_config.poll_interval)}});
  return true;
}

void ExporterApp::Stop() {
  impl_->sleeper.Stop();
  for (auto& [name, account] : impl_->accounts) account.transport->CancelAll();
  impl_->poller->Stop();
  impl_->web.Stop();
}

const std::vector<std::string>& ExporterApp::listen_addresses() const {
  return impl_->web.bound_addresses();
}

}  // namespace sas::app
