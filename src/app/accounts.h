#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "aliyun/sas_client.h"
#include "app/seams.h"
#include "config/config.h"
#include "credentials/refreshing_provider.h"
#include "poll/poller.h"
#include "util/sleeper.h"
#include "util/token_bucket.h"

namespace sas::app {

struct CredentialSources;

// One [[account]]'s API client, rate limit and credentials. Shared between
// the exporter and the polls using it, so that a reload replacing it lets
// polls under way finish with it. Not copyable; its parts are thread-safe.
struct Account {
  config::AccountConfig config;
  // The exporter settings its client and credentials were built with.
  Millis connect_timeout{0};
  Millis request_timeout{0};
  int max_retries = 0;
  // Hashes of the files it was built from: its ca_file and, for credentials
  // read from files when built (cli_profile, credentials_file, the default
  // chain), every credential file read then. A file that changed renews the
  // account on reload.
  std::map<std::string, size_t> files;
  // The providers built together with this account's (source_account
  // chains), owning `provider`.
  std::shared_ptr<CredentialSources> sources;
  credentials::RefreshingProvider* provider = nullptr;
  // Keeps `provider` fresh once given it (Add); stopped before the account
  // is dropped.
  std::unique_ptr<credentials::CredentialsRefresher> refresher;
  // Requests that may block: archived-export listings, --check.accounts.
  std::unique_ptr<aliyun::HttpTransport> transport;
  // Polls, on the poller's loop (see AccountDeps::poll_loop); null without
  // Seams::make_async_transport. Destroyed on the loop's thread.
  std::shared_ptr<aliyun::AsyncHttpTransport> poll_transport;
  EventLoop* poll_loop = nullptr;
  std::unique_ptr<TokenBucket> bucket;
  // The bucket's rate: max_requests_per_second / AccountDeps::total_shards.
  double bucket_rate = 0;
  std::unique_ptr<aliyun::SasClient> client;
  // The account's first [[task]] when it was built, for --check.accounts.
  std::optional<aliyun::ExportQuery> first_task;

  ~Account();
  // Aborts the credential fetches and API requests in flight (shutdown).
  void CancelAll();
  // What the poller needs; keeps `self` alive while a poll uses it.
  static poll::AccountHandle Handle(const std::shared_ptr<Account>& self);
};

using Accounts = std::map<std::string, std::shared_ptr<Account>>;

// What building accounts needs; everything must outlive the accounts.
struct AccountDeps {
  const Seams& world;
  Sleeper& sleeper;
  aliyun::ApiObserver* api_observer = nullptr;
  credentials::RefreshObserver* credential_observer = nullptr;
  std::string user_agent;
  // --total-shards: replicas share each account's API quota, each taking
  // max_requests_per_second / total_shards.
  int total_shards = 1;
  // The poller's loop, which accounts' polls run on; it must outlive them.
  EventLoop* poll_loop = nullptr;
};

// The accounts of `config`. An account of `current` is taken over as it
// is (client, rate limit, cached credentials) when its table, its files
// and the exporter settings it uses (connect_timeout, request_timeout,
// max_retries) are unchanged and so is the account its credentials come
// from (source_account); every other account is built afresh, its
// refresher not started yet. Reads credential files but never the network.
// nullopt with *error (no secret in it) when credentials cannot be set up.
std::optional<Accounts> BuildAccounts(const config::Config& config,
                                      const Accounts& current,
                                      const AccountDeps& deps,
                                      std::string* error);

}  // namespace sas::app
