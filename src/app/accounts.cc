#include "app/accounts.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <set>
#include <tuple>
#include <variant>
#include <vector>

#include "credentials/factory.h"

namespace sas::app {
namespace {

size_t HashOf(const FileReadResult& read) {
  return std::hash<std::string>()(read.ok ? "+" + read.content
                                          : "-" + read.error);
}

// Reads through another file system and remembers a hash of every read, to
// tell later whether the files credentials were built from changed. Only
// reads: the writing calls fail. Thread-safe.
class RecordingFileSystem : public FileSystem {
 public:
  explicit RecordingFileSystem(const FileSystem& files) : files_(files) {}

  std::map<std::string, size_t> reads() const {
    std::lock_guard lock(mutex_);
    return reads_;
  }

  FileReadResult ReadFile(const std::string& path,
                          size_t max_bytes) const override {
    FileReadResult read = files_.ReadFile(path, max_bytes);
    std::lock_guard lock(mutex_);
    reads_[path] = HashOf(read);
    return read;
  }
  bool IsReadableByOthers(const std::string& path) const override {
    return files_.IsReadableByOthers(path);
  }
  bool Exists(const std::string& path) const override {
    return files_.Exists(path);
  }
  FileStatus Stat(const std::string& path, FileInfo* info) const override {
    return files_.Stat(path, info);
  }
  std::vector<std::string> Glob(const std::string& pattern) const override {
    return files_.Glob(pattern);
  }
  FileStatus OpenForAppend(const std::string&, bool,
                           std::unique_ptr<WritableFile>*) override {
    return ReadOnly();
  }
  FileStatus Rename(const std::string&, const std::string&) override {
    return ReadOnly();
  }
  FileStatus RemoveFile(const std::string&) override { return ReadOnly(); }
  FileStatus CreateDirectories(const std::string&) override {
    return ReadOnly();
  }
  FileStatus SyncDirectory(const std::string&) override { return ReadOnly(); }

 private:
  static FileStatus ReadOnly() {
    return {FileError::kOther, "read-only file system"};
  }

  const FileSystem& files_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  mutable std::map<std::string, size_t> reads_;
};

// Credentials whose source is read from files when the provider is built.
bool ReadsFilesWhenBuilt(const config::CredentialsConfig& credentials) {
  return std::holds_alternative<config::CliProfileCredentials>(credentials) ||
         std::holds_alternative<config::CredentialsFileCredentials>(
             credentials) ||
         std::holds_alternative<config::DefaultCredentials>(credentials);
}

const std::string* SourceAccount(const config::AccountConfig& account) {
  const auto* role =
      std::get_if<config::RamRoleArnCredentials>(&account.credentials);
  return role != nullptr && !role->source_account.empty()
             ? &role->source_account
             : nullptr;
}

// Everything of two [[account]] tables but where they were written.
bool SameTable(const config::AccountConfig& a, const config::AccountConfig& b) {
  auto fields = [](const config::AccountConfig& c) {
    return std::tie(c.name, c.region, c.endpoint, c.network,
                    c.signature_version, c.max_requests_per_second, c.ca_file,
                    c.credentials, c.credential_endpoints);
  };
  return fields(a) == fields(b);
}

}  // namespace

struct CredentialSources {
  explicit CredentialSources(const FileSystem& files) : files(files) {}
  // The providers read through it, also later (oidc_token_file).
  RecordingFileSystem files;
  std::unique_ptr<credentials::ProviderSet> set;
};

Account::~Account() {
  // Before the provider it refreshes goes.
  if (refresher) refresher->Stop();
  // Its connections are the loop's to close.
  if (poll_transport) poll_loop->Post([dropped = std::move(poll_transport)] {});
}

void Account::CancelAll() {
  sources->set->CancelAll();
  transport->CancelAll();
  if (poll_transport) {
    poll_loop->Post([cancelled = poll_transport] { cancelled->CancelAll(); });
  }
}

poll::AccountHandle Account::Handle(const std::shared_ptr<Account>& self) {
  return {self->client.get(), self->bucket.get(), self};
}

std::optional<Accounts> BuildAccounts(const config::Config& config,
                                      const Accounts& current,
                                      const AccountDeps& deps,
                                      std::string* error) {
  const Seams& world = deps.world;
  const config::ExporterConfig& exporter = config.exporter;
  auto sources = std::make_shared<CredentialSources>(world.files);
  credentials::ProviderDeps provider_deps{world.clock, world.nonces,
                                          world.environment, sources->files};
  provider_deps.observer = deps.credential_observer;
  provider_deps.user_agent = deps.user_agent;
  provider_deps.connect_timeout = exporter.connect_timeout;
  provider_deps.request_timeout = exporter.request_timeout;
  // A quarter of the poll interval, 1 to 5 s: an account whose credentials
  // ran out recovers about one poll interval after their source is back.
  provider_deps.retry_cap_without_credentials =
      std::clamp<Millis>(exporter.poll_interval / 4, std::chrono::seconds(1),
                         std::chrono::seconds(5));
  provider_deps.make_transport = [make = world.make_transport](Millis connect,
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
  sources->set = credentials::ProviderSet::Build(account_credentials,
                                                 provider_deps, error);
  if (!sources->set) return std::nullopt;
  const std::map<std::string, size_t> credential_files = sources->files.reads();

  // What each account is built from, and which ones changed.
  std::map<std::string, std::map<std::string, size_t>> files;
  std::set<std::string> renewed;
  for (const config::AccountConfig& account : config.accounts) {
    std::map<std::string, size_t>& used = files[account.name];
    if (!account.ca_file.empty()) {
      used[account.ca_file] = HashOf(world.files.ReadFile(account.ca_file));
    }
    if (ReadsFilesWhenBuilt(account.credentials)) {
      used.insert(credential_files.begin(), credential_files.end());
    }
    auto it = current.find(account.name);
    bool same = it != current.end() && SameTable(it->second->config, account) &&
                it->second->files == used &&
                it->second->connect_timeout == exporter.connect_timeout &&
                it->second->request_timeout == exporter.request_timeout &&
                it->second->max_retries == exporter.max_retries;
    if (!same) renewed.insert(account.name);
  }
  // An account whose source_account is renewed is renewed too.
  for (bool grew = true; grew;) {
    grew = false;
    for (const config::AccountConfig& account : config.accounts) {
      const std::string* source = SourceAccount(account);
      if (source != nullptr && renewed.contains(*source) &&
          renewed.insert(account.name).second) {
        grew = true;
      }
    }
  }

  Accounts accounts;
  for (const config::AccountConfig& account_config : config.accounts) {
    const std::string& name = account_config.name;
    if (!renewed.contains(name)) {
      accounts.emplace(name, current.at(name));
      continue;
    }
    auto account = std::make_shared<Account>();
    account->config = account_config;
    account->connect_timeout = exporter.connect_timeout;
    account->request_timeout = exporter.request_timeout;
    account->max_retries = exporter.max_retries;
    account->files = std::move(files[name]);
    account->sources = sources;
    account->provider = sources->set->For(name);
    account->refresher =
        std::make_unique<credentials::CredentialsRefresher>(world.clock);
    aliyun::TransportOptions transport_options;
    transport_options.connect_timeout = exporter.connect_timeout;
    transport_options.request_timeout = exporter.request_timeout;
    transport_options.ca_file = account_config.ca_file;
    account->transport = world.make_transport(transport_options);
    aliyun::EventLoopPath poll_path;
    if (world.make_async_transport && deps.poll_loop != nullptr) {
      account->poll_loop = deps.poll_loop;
      account->poll_transport =
          world.make_async_transport(*deps.poll_loop, transport_options);
      poll_path = {deps.poll_loop, account->poll_transport.get()};
    }
    account->bucket_rate =
        account_config.max_requests_per_second / deps.total_shards;
    account->bucket = std::make_unique<TokenBucket>(
        account->bucket_rate, account->bucket_rate, world.clock);
    aliyun::SasClientOptions client_options;
    client_options.account = name;
    client_options.endpoint = account_config.endpoint;
    client_options.signature_version = account_config.signature_version;
    client_options.retry.max_retries = exporter.max_retries;
    client_options.user_agent = deps.user_agent;
    account->client = std::make_unique<aliyun::SasClient>(
        client_options, *account->transport, *account->provider, world.clock,
        world.nonces, deps.sleeper, account->bucket.get(), deps.api_observer,
        poll_path);
    for (const config::TaskConfig& task : config.tasks) {
      if (task.account == name) {
        account->first_task = aliyun::ExportQuery{task.action, task.export_id,
                                                  task.rd_account_id};
        break;
      }
    }
    accounts.emplace(name, std::move(account));
  }
  return accounts;
}

}  // namespace sas::app
