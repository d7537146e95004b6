#include "credentials/factory.h"

#include <set>

#include "aliyun/endpoints.h"
#include "credentials/fetchers.h"
#include "credentials/formats.h"
#include "util/strings.h"

namespace sas::credentials {

using aliyun::Credentials;
using aliyun::CredentialsProvider;
using aliyun::CredentialsResult;

namespace {

// CLI configuration and credentials files larger than this are refused.
constexpr size_t kMaxCredentialFileBytes = 1 << 20;
// DurationSeconds when a profile names none, as the official libraries use.
constexpr Millis kDefaultRoleSession{std::chrono::hours(1)};

constexpr Millis kMetadataTimeout{1'000};
constexpr int kMaxProfileChain = 8;
// A CLI profile's expired_seconds: STS's longest role session.
constexpr int64_t kMaxSessionSeconds = 12 * 3600;

// Reports a fixed type for the `provider` label, whatever the inner fetcher
// says (a CLI profile in RamRoleArn mode is still "cli_profile").
class NamedFetcher : public CredentialsFetcher {
 public:
  NamedFetcher(std::unique_ptr<CredentialsFetcher> inner, std::string type)
      : inner_(std::move(inner)), type_(std::move(type)) {}
  CredentialsResult Fetch() override { return inner_->Fetch(); }
  std::string Type() const override { return type_; }

 private:
  std::unique_ptr<CredentialsFetcher> inner_;
  std::string type_;
};

// The source of a role assumption, seen through its cache: every Get()
// first lets the cache refresh when due. Sources that belong to no account
// have no refresher thread, and an account's own source may not have
// finished its first fetch when a role built on it fetches; either way the
// role's fetch brings its source up to date (fetches are serialised, so
// the source's own thread then finds nothing due).
class OnDemandSource : public CredentialsProvider {
 public:
  explicit OnDemandSource(RefreshingProvider& inner) : inner_(inner) {}
  CredentialsResult Get() override {
    inner_.RefreshIfDue();
    return inner_.Get();
  }
  std::string Type() const override { return inner_.Type(); }
  CredentialsResult Refresh() override { return inner_.Refresh(); }

 private:
  RefreshingProvider& inner_;
};

// One step of the default chain: its fetcher, or why the source does not
// apply here (decided when the chain is built, as the official libraries
// decide when they construct theirs).
struct ChainStep {
  std::string type;
  std::unique_ptr<CredentialsFetcher> fetcher;
  std::string why;
};

// The official default chain: environment, OIDC environment, CLI profile,
// credentials file, ECS RAM role, credentials URI. The first step that
// yields credentials is kept for every later refresh, as the official
// libraries do. When none does, the error lists what each step said.
class DefaultChainFetcher : public CredentialsFetcher {
 public:
  explicit DefaultChainFetcher(std::vector<ChainStep> steps)
      : steps_(std::move(steps)) {}

  CredentialsResult Fetch() override {
    if (chosen_) return chosen_->Fetch();
    std::string reasons;
    for (ChainStep& step : steps_) {
      std::string why = step.why;
      if (step.fetcher) {
        CredentialsResult result = step.fetcher->Fetch();
        if (result.credentials) {
          chosen_ = std::move(step.fetcher);
          type_ = step.type;
          return result;
        }
        why = result.error_code + ": " + result.error_message;
      }
      if (!reasons.empty()) reasons += "; ";
      reasons += step.type + ": " + why;
    }
    return {std::nullopt, "NoCredentials",
            "no source of the default chain yielded credentials: " + reasons};
  }
  std::string Type() const override { return type_; }

 private:
  std::vector<ChainStep> steps_;
  std::unique_ptr<CredentialsFetcher> chosen_;
  std::string type_ = "default";
};

bool IsTrue(const std::optional<std::string>& value) {
  return value && ToLower(*value) == "true";
}

// The CLI profile modes, as aliyun-cli's config/profile.go spells them.
constexpr std::string_view kCliModes[] = {"AK",         "StsToken",
                                          "RamRoleArn", "EcsRamRole",
                                          "OIDC",       "ChainableRamRoleArn",
                                          "External",   "CredentialsURI",
                                          "CloudSSO",   "OAuth"};

// The canonical spelling of a mode written in any case ("ak" -> "AK"), or
// the mode as written when it is none of kCliModes.
std::string CanonicalMode(const std::string& mode) {
  for (std::string_view known : kCliModes) {
    if (ToLower(known) == ToLower(mode)) return std::string(known);
  }
  return mode;
}

// What a role assumption needs besides its source and its account.
struct RoleSpec {
  std::string role_arn;
  std::string session;  // "" = ALIBABA_CLOUD_ROLE_SESSION_NAME or default
  Millis duration = kDefaultRoleSession;
  std::string policy;       // "" = none
  std::string external_id;  // AssumeRole only; "" = none
  std::string sts_region;   // a CLI profile's; "" = none
  bool enable_vpc = false;  // a CLI profile's
};

}  // namespace

// Builds a ProviderSet; see ProviderSet::Build.
class Builder {
 public:
  Builder(std::span<const AccountCredentials> accounts,
          const ProviderDeps& deps, ProviderSet& set)
      : accounts_(accounts), deps_(deps), set_(set) {}

  bool BuildAll(std::string* error) {
    for (const AccountCredentials& account : accounts_) {
      if (!BuildAccount(account, error)) return false;
    }
    return true;
  }

 private:
  const AccountCredentials* FindAccount(const std::string& name) const {
    for (const auto& account : accounts_) {
      if (account.name == name) return &account;
    }
    return nullptr;
  }

  RefreshingProvider* BuildAccount(const AccountCredentials& account,
                                   std::string* error) {
    if (auto it = set_.providers_.find(account.name);
        it != set_.providers_.end()) {
      return it->second.get();
    }
    std::string why;
    std::unique_ptr<CredentialsFetcher> fetcher = std::visit(
        [&](const auto& credentials) {
          return FetcherOf(account, credentials, &why);
        },
        account.credentials);
    if (!fetcher) {
      *error = "account " + account.name + ": " + why;
      return nullptr;
    }
    auto provider = std::make_unique<RefreshingProvider>(
        account.name, std::move(fetcher), deps_.clock, deps_.observer,
        deps_.retry_cap_without_credentials);
    RefreshingProvider* raw = provider.get();
    set_.providers_.emplace(account.name, std::move(provider));
    return raw;
  }

  aliyun::HttpTransport& NewTransport(Millis connect, Millis request) {
    set_.transports_.push_back(deps_.make_transport(connect, request));
    return *set_.transports_.back();
  }

  // The STS endpoint; see ProviderSet::Build.
  aliyun::Endpoint StsEndpoint(const AccountCredentials& account,
                               const RoleSpec& role) const {
    if (account.endpoints.sts) return *account.endpoints.sts;
    std::string region = account.endpoints.sts_region;
    if (region.empty()) region = role.sts_region;
    if (region.empty()) {
      region = deps_.env.Get("ALIBABA_CLOUD_STS_REGION").value_or("");
    }
    bool vpc = role.enable_vpc ||
               IsTrue(deps_.env.Get("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"));
    return aliyun::Endpoint{"https", aliyun::StsHostForRegion(region, vpc),
                            443};
  }

  aliyun::Endpoint MetadataEndpoint(const AccountCredentials& account) const {
    if (account.endpoints.metadata) return *account.endpoints.metadata;
    return aliyun::Endpoint{"http", "100.100.100.200", 80};
  }

  // A cache of its own around a fetcher, as the source of a role chain that
  // belongs to no account (inline keys, a CLI source profile).
  CredentialsProvider& Intermediate(
      const std::string& account, std::unique_ptr<CredentialsFetcher> fetcher) {
    set_.caches_.push_back(std::make_unique<RefreshingProvider>(
        account, std::move(fetcher), deps_.clock));
    return OnDemand(*set_.caches_.back());
  }

  // Long-lived keys as the source of a role.
  CredentialsProvider& StaticSource(const std::string& account,
                                    const Credentials& credentials) {
    return Intermediate(account, MakeStaticFetcher(credentials, "access_key"));
  }

  CredentialsProvider& OnDemand(RefreshingProvider& provider) {
    set_.intermediates_.push_back(std::make_unique<OnDemandSource>(provider));
    return *set_.intermediates_.back();
  }

  // The transport of STS calls: the accounts' timeouts.
  aliyun::HttpTransport& StsTransport() {
    return NewTransport(deps_.connect_timeout, deps_.request_timeout);
  }

  // The options every role assumption shares (StsOptions, OidcOptions).
  template <typename Options>
  Options RoleOptions(const AccountCredentials& account,
                      const RoleSpec& role) const {
    Options options;
    options.endpoint = StsEndpoint(account, role);
    options.role_arn = role.role_arn;
    options.role_session_name = SessionName(role.session);
    options.duration = role.duration;
    options.policy = role.policy;
    options.user_agent = deps_.user_agent;
    return options;
  }

  std::unique_ptr<CredentialsFetcher> AssumeRole(
      const AccountCredentials& account, CredentialsProvider& source,
      const RoleSpec& role) {
    auto options = RoleOptions<StsOptions>(account, role);
    options.external_id = role.external_id;
    return MakeAssumeRoleFetcher(options, source, StsTransport(), deps_.clock,
                                 deps_.nonces);
  }

  std::unique_ptr<CredentialsFetcher> Oidc(const AccountCredentials& account,
                                           const RoleSpec& role,
                                           const std::string& provider_arn,
                                           const std::string& token_file) {
    auto options = RoleOptions<OidcOptions>(account, role);
    options.oidc_provider_arn = provider_arn;
    options.oidc_token_file = token_file;
    return MakeOidcFetcher(options, deps_.files, StsTransport(), deps_.clock,
                           deps_.nonces);
  }

  // An ECS RAM role source; the environment fills in what the source
  // leaves open (see ProviderSet::Build).
  std::unique_ptr<CredentialsFetcher> EcsRole(const AccountCredentials& account,
                                              const std::string& role_name,
                                              bool v1_disabled) {
    EcsMetadataOptions options;
    options.endpoint = MetadataEndpoint(account);
    options.role_name =
        role_name.empty()
            ? deps_.env.Get("ALIBABA_CLOUD_ECS_METADATA").value_or("")
            : role_name;
    options.imds_v1_disabled =
        v1_disabled || IsTrue(deps_.env.Get("ALIBABA_CLOUD_IMDSV1_DISABLED"));
    return MakeEcsRamRoleFetcher(
        options, NewTransport(kMetadataTimeout, kMetadataTimeout));
  }

  std::unique_ptr<CredentialsFetcher> Uri(const std::string& uri) {
    return MakeCredentialsUriFetcher(
        uri, NewTransport(deps_.connect_timeout, deps_.request_timeout));
  }

  std::string SessionName(const std::string& configured) const {
    if (!configured.empty()) return configured;
    return deps_.env.Get("ALIBABA_CLOUD_ROLE_SESSION_NAME")
        .value_or("aliyun_sas_exporter");
  }

  std::string Home() const { return deps_.env.Get("HOME").value_or(""); }

  std::string CliConfigPath(const std::string& configured) const {
    if (!configured.empty()) return configured;
    if (auto path = deps_.env.Get("ALIBABA_CLOUD_CONFIG_FILE")) return *path;
    return Home() + "/.aliyun/config.json";
  }

  std::string CredentialsFilePath(const std::string& configured) const {
    if (!configured.empty()) return configured;
    if (auto path = deps_.env.Get("ALIBABA_CLOUD_CREDENTIALS_FILE")) {
      return *path;
    }
    return Home() + "/.alibabacloud/credentials";
  }

  // The fetcher of a CLI profile, by its mode. ChainableRamRoleArn assumes
  // its role with the credentials of source_profile, recursively.
  std::unique_ptr<CredentialsFetcher> FromCliProfile(
      const AccountCredentials& account, const CliConfig& cli,
      const std::string& path, const std::string& name, int depth,
      std::string* error) {
    const CliProfile* profile = cli.Find(name);
    if (profile == nullptr) {
      *error = path + ": no profile named \"" + name + "\"";
      return nullptr;
    }
    if (depth > kMaxProfileChain) {
      *error = path + ":" + std::to_string(profile->line) + ": profile \"" +
               name + "\": source_profile chain longer than " +
               std::to_string(kMaxProfileChain) + " (a cycle?)";
      return nullptr;
    }
    const std::string where = path + ":" + std::to_string(profile->line) +
                              ": profile \"" + name + "\"";
    const std::string mode = CanonicalMode(profile->mode);
    // The role modes' session length (DurationSeconds); default 1h.
    bool role_mode =
        mode == "RamRoleArn" || mode == "OIDC" || mode == "ChainableRamRoleArn";
    if (role_mode && profile->expired_seconds > kMaxSessionSeconds) {
      *error = where + ": field \"expired_seconds\": must be at most " +
               std::to_string(kMaxSessionSeconds) +
               " (12h, the longest STS role session), got " +
               std::to_string(profile->expired_seconds);
      return nullptr;
    }
    RoleSpec role;
    role.role_arn = profile->ram_role_arn;
    role.session = profile->ram_session_name;
    if (profile->expired_seconds > 0) {
      role.duration = Millis(profile->expired_seconds * 1000);
    }
    role.policy = profile->policy;
    role.sts_region = profile->sts_region;
    role.enable_vpc = profile->enable_vpc;
    if (mode == "AK" || mode == "StsToken") {
      Credentials keys{profile->access_key_id, profile->access_key_secret,
                       mode == "StsToken" ? profile->sts_token : "",
                       std::nullopt};
      return MakeStaticFetcher(keys, "cli_profile");
    }
    if (mode == "RamRoleArn") {
      Credentials keys{profile->access_key_id, profile->access_key_secret,
                       profile->sts_token, std::nullopt};
      role.external_id = profile->external_id;
      return AssumeRole(account, StaticSource(account.name, keys), role);
    }
    if (mode == "EcsRamRole") {
      return EcsRole(account, profile->ram_role_name, false);
    }
    if (mode == "OIDC") {
      return Oidc(account, role, profile->oidc_provider_arn,
                  profile->oidc_token_file);
    }
    if (mode == "ChainableRamRoleArn") {
      auto source = FromCliProfile(account, cli, path, profile->source_profile,
                                   depth + 1, error);
      if (!source) return nullptr;
      role.external_id = profile->external_id;
      return AssumeRole(account, Intermediate(account.name, std::move(source)),
                        role);
    }
    if (mode == "External" || mode == "CredentialsURI") {
      if (std::optional<std::string> disabled =
              deps_.env.Get("ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS");
          disabled && (*disabled == "1" || ToLower(*disabled) == "true")) {
        *error = where + ": mode " + mode +
                 " is disabled by ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS";
        return nullptr;
      }
    }
    if (mode == "External") {
      ExternalOptions options;
      std::string why;
      if (!SplitCommandLine(profile->process_command, &options.argv, &why)) {
        *error = where + ": field \"process_command\": " + why;
        return nullptr;
      }
      return MakeExternalFetcher(std::move(options), *set_.processes_);
    }
    if (mode == "CredentialsURI") {
      std::string uri = profile->credentials_uri;
      if (uri.empty()) {
        uri = deps_.env.Get("ALIBABA_CLOUD_CREDENTIALS_URI").value_or("");
      }
      if (uri.empty()) {
        *error = where +
                 ": mode CredentialsURI needs credentials_uri (or "
                 "ALIBABA_CLOUD_CREDENTIALS_URI)";
        return nullptr;
      }
      return Uri(uri);
    }
    if (mode == "CloudSSO" || mode == "OAuth") {
      *error = where + ": mode " + mode +
               " is not supported: it needs an interactive sign-in "
               "(aliyun configure) and writes refreshed tokens back to the "
               "CLI's file; use a profile in mode External whose "
               "process_command prints credentials, or RamRoleArn, OIDC or "
               "EcsRamRole, or another [account.credentials] type";
      return nullptr;
    }
    *error = where + ": mode \"" + profile->mode +
             "\" is not supported (AK, StsToken, RamRoleArn, EcsRamRole, "
             "OIDC, ChainableRamRoleArn, External, CredentialsURI; in any "
             "case)";
    return nullptr;
  }

  std::unique_ptr<CredentialsFetcher> CliProfileFetcher(
      const AccountCredentials& account, const std::string& configured_path,
      const std::string& configured_profile, std::string* error) {
    std::string path = CliConfigPath(configured_path);
    FileReadResult read = deps_.files.ReadFile(path, kMaxCredentialFileBytes);
    if (!read.ok) {
      *error = path + ": cannot read: " + read.error;
      return nullptr;
    }
    CliConfig cli;
    if (!ParseCliConfig(read.content, path, &cli, error)) return nullptr;
    std::string name = configured_profile;
    if (name.empty())
      name = deps_.env.Get("ALIBABA_CLOUD_PROFILE").value_or("");
    if (name.empty()) name = cli.current;
    if (name.empty()) name = "default";
    auto fetcher = FromCliProfile(account, cli, path, name, 0, error);
    if (!fetcher) return nullptr;
    return std::make_unique<NamedFetcher>(std::move(fetcher), "cli_profile");
  }

  std::unique_ptr<CredentialsFetcher> CredentialsFileFetcher(
      const AccountCredentials& account, const std::string& configured_path,
      const std::string& configured_section, std::string* error) {
    std::string path = CredentialsFilePath(configured_path);
    FileReadResult read = deps_.files.ReadFile(path, kMaxCredentialFileBytes);
    if (!read.ok) {
      *error = path + ": cannot read: " + read.error;
      return nullptr;
    }
    std::vector<IniSection> sections;
    if (!ParseIniFile(read.content, path, &sections, error)) return nullptr;
    std::string name = configured_section;
    if (name.empty())
      name = deps_.env.Get("ALIBABA_CLOUD_PROFILE").value_or("");
    if (name.empty()) name = "default";
    const IniSection* section = nullptr;
    for (const IniSection& s : sections) {
      if (s.name == name) section = &s;
    }
    if (section == nullptr) {
      *error = path + ": no section [" + name + "]";
      return nullptr;
    }
    auto value = [section](const char* key) {
      auto it = section->values.find(key);
      return it == section->values.end() ? std::string() : it->second;
    };
    std::string where =
        path + ":" + std::to_string(section->line) + ": [" + name + "]";
    std::string type = value("type");
    std::unique_ptr<CredentialsFetcher> fetcher;
    if (type == "access_key") {
      fetcher =
          MakeStaticFetcher({value("access_key_id"), value("access_key_secret"),
                             "", std::nullopt},
                            "credentials_file");
    } else if (type == "ecs_ram_role") {
      fetcher = EcsRole(account, value("role_name"), false);
    } else if (type == "ram_role_arn") {
      Credentials keys{value("access_key_id"), value("access_key_secret"), "",
                       std::nullopt};
      RoleSpec role;
      role.role_arn = value("role_arn");
      role.session = value("role_session_name");
      role.policy = value("policy");
      fetcher = AssumeRole(account, StaticSource(account.name, keys), role);
    } else if (type == "oidc_role_arn") {
      // As credentials-python (alibabacloud_credentials/provider/
      // profile.py): the token file is oidc_token_file_path, and empty
      // values fall back to the OIDC environment variables.
      if (section->values.contains("oidc_token_file") &&
          !section->values.contains("oidc_token_file_path")) {
        *error = path + ":" +
                 std::to_string(section->lines.at("oidc_token_file")) + ": [" +
                 name + "]: the OIDC token file's key is oidc_token_file_path";
        return nullptr;
      }
      auto or_env = [&](const char* key, const char* variable) {
        std::string v = value(key);
        return v.empty() ? deps_.env.Get(variable).value_or("") : v;
      };
      RoleSpec role;
      role.role_arn = or_env("role_arn", "ALIBABA_CLOUD_ROLE_ARN");
      role.session = value("role_session_name");
      role.policy = value("policy");
      std::string provider_arn =
          or_env("oidc_provider_arn", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN");
      std::string token_file =
          or_env("oidc_token_file_path", "ALIBABA_CLOUD_OIDC_TOKEN_FILE");
      if (role.role_arn.empty() || provider_arn.empty() || token_file.empty()) {
        *error = where +
                 ": oidc_role_arn needs role_arn, oidc_provider_arn and "
                 "oidc_token_file_path (or ALIBABA_CLOUD_ROLE_ARN, "
                 "ALIBABA_CLOUD_OIDC_PROVIDER_ARN, "
                 "ALIBABA_CLOUD_OIDC_TOKEN_FILE)";
        return nullptr;
      }
      fetcher = Oidc(account, role, provider_arn, token_file);
    } else {
      *error = where + ": type \"" + type +
               "\" is not one of access_key, ecs_ram_role, ram_role_arn, "
               "oidc_role_arn";
      return nullptr;
    }
    if (type == "access_key" && (value("access_key_id").empty() ||
                                 value("access_key_secret").empty())) {
      *error = where + ": access_key needs access_key_id and access_key_secret";
      return nullptr;
    }
    return std::make_unique<NamedFetcher>(std::move(fetcher),
                                          "credentials_file");
  }

  std::unique_ptr<CredentialsFetcher> DefaultChain(
      const AccountCredentials& account) {
    std::vector<ChainStep> steps(6);
    const Environment& env = deps_.env;

    steps[0].type = "access_key";
    auto id = env.Get("ALIBABA_CLOUD_ACCESS_KEY_ID");
    auto secret = env.Get("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    if (id && !id->empty() && secret && !secret->empty()) {
      steps[0].fetcher = MakeStaticFetcher(
          {*id, *secret, env.Get("ALIBABA_CLOUD_SECURITY_TOKEN").value_or(""),
           std::nullopt},
          "access_key");
    } else {
      steps[0].why =
          "ALIBABA_CLOUD_ACCESS_KEY_ID or ALIBABA_CLOUD_ACCESS_KEY_SECRET is "
          "not set";
    }

    steps[1].type = "oidc_role_arn";
    auto role = env.Get("ALIBABA_CLOUD_ROLE_ARN");
    auto provider = env.Get("ALIBABA_CLOUD_OIDC_PROVIDER_ARN");
    auto token = env.Get("ALIBABA_CLOUD_OIDC_TOKEN_FILE");
    if (role && provider && token) {
      RoleSpec spec;
      spec.role_arn = *role;
      steps[1].fetcher = Oidc(account, spec, *provider, *token);
    } else {
      steps[1].why =
          "ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and "
          "ALIBABA_CLOUD_OIDC_TOKEN_FILE are not all set";
    }

    steps[2].type = "cli_profile";
    if (IsTrue(env.Get("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"))) {
      steps[2].why = "disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
    } else if (std::string path = CliConfigPath("");
               deps_.files.ReadFile(path, kMaxCredentialFileBytes).ok) {
      steps[2].fetcher = CliProfileFetcher(account, "", "", &steps[2].why);
    } else {
      steps[2].why = path + " does not exist";
    }

    steps[3].type = "credentials_file";
    if (std::string path = CredentialsFilePath("");
        deps_.files.ReadFile(path, kMaxCredentialFileBytes).ok) {
      steps[3].fetcher = CredentialsFileFetcher(account, "", "", &steps[3].why);
    } else {
      steps[3].why = path + " does not exist";
    }

    steps[4].type = "ecs_ram_role";
    if (IsTrue(env.Get("ALIBABA_CLOUD_ECS_METADATA_DISABLED"))) {
      steps[4].why = "disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED";
    } else {
      steps[4].fetcher = EcsRole(account, "", false);
    }

    steps[5].type = "credentials_uri";
    if (auto uri = env.Get("ALIBABA_CLOUD_CREDENTIALS_URI");
        uri && !uri->empty()) {
      steps[5].fetcher = Uri(*uri);
    } else {
      steps[5].why = "ALIBABA_CLOUD_CREDENTIALS_URI is not set";
    }
    return std::make_unique<DefaultChainFetcher>(std::move(steps));
  }

  // The fetcher of one kind of credentials; nullptr with *why when it
  // cannot be built.
  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials&, const config::AccessKeyCredentials& c,
      std::string*) {
    return MakeStaticFetcher(c.keys, "access_key");
  }

  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials& account, const config::RamRoleArnCredentials& c,
      std::string* why) {
    CredentialsProvider* source = nullptr;
    if (c.source_keys) {
      source = &StaticSource(account.name, *c.source_keys);
    } else if (const auto* other = FindAccount(c.source_account)) {
      if (RefreshingProvider* built = BuildAccount(*other, why)) {
        source = &OnDemand(*built);
      }
    } else {
      *why = "source_account \"" + c.source_account + "\" is not defined";
    }
    if (source == nullptr) return nullptr;
    RoleSpec role;
    role.role_arn = c.role_arn;
    role.session = c.role_session_name;
    role.duration = c.duration;
    role.policy = c.policy;
    role.external_id = c.external_id;
    return AssumeRole(account, *source, role);
  }

  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials& account, const config::EcsRamRoleCredentials& c,
      std::string*) {
    return EcsRole(account, c.role_name, c.imds_v1_disabled);
  }

  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials& account,
      const config::OidcRoleArnCredentials& c, std::string*) {
    RoleSpec role;
    role.role_arn = c.role_arn;
    role.session = c.role_session_name;
    role.duration = c.duration;
    return Oidc(account, role, c.oidc_provider_arn, c.oidc_token_file);
  }

  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials& account, const config::CliProfileCredentials& c,
      std::string* why) {
    return CliProfileFetcher(account, c.file, c.profile, why);
  }

  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials& account,
      const config::CredentialsFileCredentials& c, std::string* why) {
    return CredentialsFileFetcher(account, c.file, c.profile, why);
  }

  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials&, const config::CredentialsUriCredentials& c,
      std::string*) {
    return Uri(c.uri);
  }

  std::unique_ptr<CredentialsFetcher> FetcherOf(
      const AccountCredentials& account, const config::DefaultCredentials&,
      std::string*) {
    return DefaultChain(account);
  }

  std::span<const AccountCredentials> accounts_;
  const ProviderDeps& deps_;
  ProviderSet& set_;
};

ProviderSet::~ProviderSet() = default;

std::unique_ptr<ProviderSet> ProviderSet::Build(
    std::span<const AccountCredentials> accounts, const ProviderDeps& deps,
    std::string* error) {
  std::unique_ptr<ProviderSet> set(new ProviderSet());
  if (deps.processes != nullptr) {
    set->processes_ = deps.processes;
  } else {
    set->own_processes_ = MakeSystemProcessRunner();
    set->processes_ = set->own_processes_.get();
  }
  Builder builder(accounts, deps, *set);
  if (!builder.BuildAll(error)) return nullptr;
  return set;
}

RefreshingProvider* ProviderSet::For(const std::string& account) const {
  auto it = providers_.find(account);
  return it == providers_.end() ? nullptr : it->second.get();
}

std::vector<RefreshingProvider*> ProviderSet::All() const {
  std::vector<RefreshingProvider*> all;
  for (const auto& [name, provider] : providers_) all.push_back(provider.get());
  return all;
}

void ProviderSet::CancelAll() {
  for (auto& transport : transports_) transport->CancelAll();
  processes_->CancelAll();
}

}  // namespace sas::credentials
