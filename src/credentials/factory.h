#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "aliyun/http.h"
#include "config/credentials_config.h"
#include "credentials/refreshing_provider.h"
#include "util/clock.h"
#include "util/environment.h"
#include "util/file_system.h"
#include "util/nonce.h"
#include "util/process.h"

namespace sas::credentials {

// What building one account's provider needs to know of the account.
struct AccountCredentials {
  std::string name;  // the account's name; unique
  // The account's Security Center region and network. Neither chooses the
  // STS endpoint (see ProviderSet::Build).
  std::string region;
  config::Network network = config::Network::kPublic;
  config::CredentialsConfig credentials;
  config::CredentialEndpoints endpoints;
};

// What building providers needs from the outside world.
struct ProviderDeps {
  const Clock& clock;
  NonceSource& nonces;
  const Environment& env;
  const FileSystem& files;
  RefreshObserver* observer = nullptr;
  std::string user_agent;
  // Makes the transport fetchers use (STS: the account's timeouts; the
  // metadata service: 1 s, as the official libraries).
  std::function<std::unique_ptr<aliyun::HttpTransport>(Millis connect,
                                                       Millis request)>
      make_transport;
  Millis connect_timeout{5'000};
  Millis request_timeout{10'000};
  // How long an account without valid credentials waits at most between
  // fetches (see RefreshingProvider).
  Millis retry_cap_without_credentials{RefreshingProvider::kMaxBackoff};
  // Runs External CLI profiles' commands; nullptr = the real one, owned by
  // the ProviderSet. ProviderSet::CancelAll cancels it.
  ProcessRunner* processes = nullptr;
};

// Every account's credentials provider, built from the configuration, with
// everything they own (transports, intermediate providers of role chains).
// Thread-safe after Build.
class ProviderSet {
 public:
  ~ProviderSet();

  // Builds one RefreshingProvider per account, resolving sources as the
  // official credentials libraries do (aliyun/credentials-go, providers/):
  //
  // STS endpoint of role assumptions: the account's sts_endpoint; else
  // "sts[-vpc].<region>.aliyuncs.com" with the first region of the
  // account's sts_region, the CLI profile's sts_region and
  // ALIBABA_CLOUD_STS_REGION, "-vpc" when the CLI profile's enable_vpc or
  // ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true; else "sts.aliyuncs.com".
  //
  // Every ECS RAM role source (type ecs_ram_role, the default chain, a CLI
  // EcsRamRole profile, an INI ecs_ram_role section) takes its role from
  // ALIBABA_CLOUD_ECS_METADATA when it names none, and refuses IMDSv1 when
  // ALIBABA_CLOUD_IMDSV1_DISABLED=true.
  //
  // The default chain leaves out the CLI profile when
  // ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true.
  //
  // CLI profile modes match in any case. External and CredentialsURI are
  // refused when ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS is 1 or true (as
  // the aliyun CLI); CloudSSO and OAuth are refused by name.
  // Accounts whose credentials
  // come from another account (source_account) are built after it. nullptr
  // with *error when a file named by cli_profile or credentials_file cannot
  // be read or parsed, or names no such profile, or a source_account names
  // no account of `accounts` ("account prod: ...").
  static std::unique_ptr<ProviderSet> Build(
      std::span<const AccountCredentials> accounts, const ProviderDeps& deps,
      std::string* error);

  // nullptr for an unknown account.
  RefreshingProvider* For(const std::string& account) const;
  std::vector<RefreshingProvider*> All() const;
  // Aborts every fetch in flight (shutdown).
  void CancelAll();

 private:
  friend class Builder;
  ProviderSet() = default;

  std::vector<std::unique_ptr<aliyun::HttpTransport>> transports_;
  std::unique_ptr<ProcessRunner> own_processes_;
  ProcessRunner* processes_ = nullptr;
  // Caches of role sources that belong to no account (inline source keys,
  // CLI source profiles), and the on-demand views roles fetch through.
  std::vector<std::unique_ptr<RefreshingProvider>> caches_;
  std::vector<std::unique_ptr<aliyun::CredentialsProvider>> intermediates_;
  std::map<std::string, std::unique_ptr<RefreshingProvider>> providers_;
};

}  // namespace sas::credentials
