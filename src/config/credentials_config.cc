#include "config/credentials_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "aliyun/endpoints.h"
#include "config/secret_source.h"
#include "util/environment.h"
#include "util/file_system.h"
#include "util/strings.h"
#include "util/toml_reader.h"

namespace sas::config {
namespace {

// Every type, in the order messages list them.
constexpr std::string_view kCredentialTypes[] = {
    AccessKeyCredentials::kType,      RamRoleArnCredentials::kType,
    EcsRamRoleCredentials::kType,     OidcRoleArnCredentials::kType,
    CliProfileCredentials::kType,     CredentialsFileCredentials::kType,
    CredentialsUriCredentials::kType, DefaultCredentials::kType};
static_assert(std::size(kCredentialTypes) ==
              std::variant_size_v<CredentialsConfig>);

// The empty alternative whose kType is `type`, or nullopt.
template <typename... Types>
std::optional<std::variant<Types...>> AlternativeOfType(
    std::string_view type, std::type_identity<std::variant<Types...>>) {
  std::optional<std::variant<Types...>> found;
  ((Types::kType == type ? (void)found.emplace(Types{}) : (void)0), ...);
  return found;
}

// The keys that carry an access key, inline in a credentials table, each
// in three spellings (see LoadSecret).
constexpr std::string_view kAccessKeyNames[] = {
    "access_key_id", "access_key_secret", "security_token"};
constexpr std::string_view kSecretSuffixes[] = {"", "_env", "_file"};

// The keys of each type besides "type", the access key spellings (where
// the type takes an inline access key) and the endpoint overrides.
constexpr std::string_view kRamRoleArnKeys[] = {
    "role_arn", "role_session_name", "duration",
    "policy",   "external_id",       "source_account"};
constexpr std::string_view kEcsRamRoleKeys[] = {"role_name",
                                                "imds_v1_disabled"};
constexpr std::string_view kOidcRoleArnKeys[] = {
    "role_arn", "oidc_provider_arn", "oidc_token_file", "role_session_name",
    "duration"};
constexpr std::string_view kProfileKeys[] = {"profile", "file"};
constexpr std::string_view kUriKeys[] = {"uri"};

constexpr std::string_view kEnvRoleSessionName =
    "ALIBABA_CLOUD_ROLE_SESSION_NAME";
constexpr std::string_view kDefaultRoleSessionName = "aliyun_sas_exporter";

// STS DurationSeconds: 900 s up to the longest role session allowed.
constexpr Millis kMinRoleDuration{15 * 60'000};
constexpr Millis kMaxRoleDuration{std::chrono::hours(12)};

// "type", then `keys`, then the access key spellings when inline_keys, then
// the endpoint overrides: the keys a type accepts, in the order messages
// list them.
std::vector<std::string_view> AllowedKeys(
    std::span<const std::string_view> keys, bool inline_keys) {
  std::vector<std::string_view> allowed = {"type"};
  allowed.insert(allowed.end(), keys.begin(), keys.end());
  if (inline_keys) {
    static const std::vector<std::string> spellings = [] {
      std::vector<std::string> out;
      for (std::string_view name : kAccessKeyNames) {
        for (std::string_view suffix : kSecretSuffixes) {
          out.push_back(std::string(name) + std::string(suffix));
        }
      }
      return out;
    }();
    allowed.insert(allowed.end(), spellings.begin(), spellings.end());
  }
  allowed.insert(allowed.end(),
                 {"sts_endpoint", "sts_region", "metadata_endpoint"});
  return allowed;
}

// STS RoleSessionName: 2 to 64 of [A-Za-z0-9.@_-].
bool IsValidRoleSessionName(std::string_view name) {
  if (name.size() < 2 || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '@' || c == '_' ||
           c == '-';
  });
}

// "acs:ram::<digits>:<resource>/<name>", the name being one or more of
// [A-Za-z0-9+=,.@_-] (RAM's characters for role and provider names).
bool IsRamArn(std::string_view arn, std::string_view resource) {
  constexpr std::string_view kPrefix = "acs:ram::";
  if (!StartsWith(arn, kPrefix)) return false;
  arn.remove_prefix(kPrefix.size());
  size_t digits = arn.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos) return false;
  arn.remove_prefix(digits);
  std::string middle = ":" + std::string(resource) + "/";
  if (!StartsWith(arn, middle)) return false;
  arn.remove_prefix(middle.size());
  return !arn.empty() && std::all_of(arn.begin(), arn.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') ||
           std::string_view("+=,.@_-").find(c) != std::string_view::npos;
  });
}

// An http:// or https:// URL with a host and no whitespace or control
// characters; a path and a query are allowed.
bool IsHttpUrl(std::string_view url) {
  std::string lower = ToLower(url.substr(0, 8));
  size_t scheme_length = StartsWith(lower, "https://")  ? 8
                         : StartsWith(lower, "http://") ? 7
                                                        : 0;
  if (scheme_length == 0) return false;
  if (std::any_of(url.begin(), url.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      })) {
    return false;
  }
  std::string_view rest = url.substr(scheme_length);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string_view host = authority.substr(authority.rfind('@') + 1);
  return !host.empty() && host.front() != ':';
}

// The one credential type that begins with `prefix` (at least 3
// characters: "ram_role", "oidc"), or "" when none or several do.
std::string UniqueTypeWithPrefix(std::string_view prefix) {
  if (prefix.size() < 3) return "";
  std::string found;
  for (std::string_view type : kCredentialTypes) {
    if (!StartsWith(type, prefix)) continue;
    if (!found.empty()) return "";
    found = std::string(type);
  }
  return found;
}

// One secret-bearing key of a credentials table, with its three spellings.
struct SecretKey {
  std::string_view name;
  bool required;
  // Literal values of secrets draw a warning in a file others can read.
  bool secret;
};

}  // namespace

std::string_view CredentialsTypeName(const CredentialsConfig& credentials) {
  return std::visit(
      [](const auto& alternative) {
        return std::decay_t<decltype(alternative)>::kType;
      },
      credentials);
}

// Reads the keys of one [account.credentials] table into its alternative.
class CredentialsLoader::TableLoader {
 public:
  TableLoader(CredentialsLoader& owner, const toml::table& table,
              const std::string& path, const std::string& account)
      : owner_(owner),
        reader_(owner.reader_),
        table_(table),
        path_(path),
        account_(account) {}

  void operator()(DefaultCredentials&) { CheckKeys({}, false); }
  void operator()(AccessKeyCredentials& credentials) {
    CheckKeys({}, true);
    LoadInlineKeys(credentials.keys);
  }
  void operator()(RamRoleArnCredentials& credentials);
  void operator()(EcsRamRoleCredentials& credentials);
  void operator()(OidcRoleArnCredentials& credentials);
  void operator()(CliProfileCredentials& credentials) {
    CheckKeys(kProfileKeys, false);
    LoadProfile(credentials.profile, credentials.file,
                "remove the key to use ALIBABA_CLOUD_PROFILE or the file's "
                "current profile",
                "remove the key to use ALIBABA_CLOUD_CONFIG_FILE or "
                "~/.aliyun/config.json");
  }
  void operator()(CredentialsFileCredentials& credentials) {
    CheckKeys(kProfileKeys, false);
    LoadProfile(credentials.profile, credentials.file,
                "remove the key to use ALIBABA_CLOUD_PROFILE or [default]",
                "remove the key to use ALIBABA_CLOUD_CREDENTIALS_FILE or "
                "~/.alibabacloud/credentials");
  }
  void operator()(CredentialsUriCredentials& credentials);

  // sts_endpoint or metadata_endpoint.
  std::optional<aliyun::Endpoint> LoadEndpointOverride(std::string_view key);

  // "type \"<type>\"", for unknown key messages.
  std::string owner_type;

 private:
  TomlField Get(std::string_view key) const {
    return TomlReader::Get(table_, path_, key);
  }
  void CheckKeys(std::span<const std::string_view> keys, bool inline_keys) {
    reader_.CheckKeys(table_, path_, AllowedKeys(keys, inline_keys),
                      owner_type);
  }
  // access_key_id, access_key_secret (both required) and security_token.
  void LoadInlineKeys(aliyun::Credentials& keys);
  // role_arn (required), role_session_name and duration, shared by
  // ram_role_arn and oidc_role_arn.
  void LoadRoleKeys(std::string& role_arn, std::string& session_name,
                    Millis& duration);
  // A required "acs:ram::<digits>:<resource>/<name>" key.
  std::optional<std::string> LoadRamArn(std::string_view key,
                                        std::string_view resource,
                                        std::string_view example);
  void LoadProfile(std::string& profile, std::string& file,
                   std::string_view profile_hint, std::string_view file_hint);
  // One secret in any of its three spellings, resolved.
  std::optional<std::string> LoadSecret(const SecretKey& key);

  CredentialsLoader& owner_;
  TomlReader& reader_;
  const toml::table& table_;
  const std::string& path_;
  const std::string& account_;
};

void CredentialsLoader::TableLoader::LoadInlineKeys(aliyun::Credentials& keys) {
  if (auto id = LoadSecret({"access_key_id", true, false})) {
    keys.access_key_id = std::move(*id);
  }
  if (auto secret = LoadSecret({"access_key_secret", true, true})) {
    keys.access_key_secret = std::move(*secret);
  }
  if (auto token = LoadSecret({"security_token", false, true})) {
    keys.security_token = std::move(*token);
  }
}

void CredentialsLoader::TableLoader::operator()(
    RamRoleArnCredentials& credentials) {
  CheckKeys(kRamRoleArnKeys, true);
  LoadRoleKeys(credentials.role_arn, credentials.role_session_name,
               credentials.duration);

  TomlField field = Get("policy");
  if (auto policy =
          reader_.NonEmptyString(field, "remove the key for no policy")) {
    std::string problem;
    try {
      nlohmann::json document = nlohmann::json::parse(*policy);
      if (document.is_object()) {
        credentials.policy = std::move(*policy);
      } else {
        problem = "must be a JSON object (a policy document), found " +
                  std::string(document.type_name());
      }
    } catch (const nlohmann::json::parse_error& error) {
      problem = "invalid JSON at byte " + std::to_string(error.byte) +
                "; expected a policy document such as {\"Version\": \"1\", "
                "\"Statement\": [...]}";
    } catch (const nlohmann::json::exception&) {
      // out_of_range: a number beyond a double, such as 1e400.
      problem = "invalid JSON: a number is too large (beyond +-1.8e308)";
    }
    if (!problem.empty()) {
      reader_.Error(reader_.At(*field.node), field.path + ": " + problem);
    }
  }

  if (auto external_id = reader_.NonEmptyString(
          Get("external_id"), "remove the key to send no ExternalId")) {
    credentials.external_id = std::move(*external_id);
  }

  // The source of the credentials that assume the role: an access key
  // written here, or another account.
  const toml::node* first_inline = nullptr;
  for (std::string_view name : kAccessKeyNames) {
    for (std::string_view suffix : kSecretSuffixes) {
      const toml::node* node =
          table_.get(std::string(name) + std::string(suffix));
      if (node != nullptr &&
          (first_inline == nullptr ||
           node->source().begin < first_inline->source().begin)) {
        first_inline = node;
      }
    }
  }
  field = Get("source_account");
  if (field.node != nullptr && first_inline != nullptr) {
    reader_.Error(reader_.At(*field.node),
                  field.path + ": conflicts with the access key at line " +
                      std::to_string(first_inline->source().begin.line) +
                      "; set either source_account or access_key_id and "
                      "access_key_secret, not both");
    return;
  }
  if (field.node == nullptr && first_inline == nullptr) {
    reader_.Error(
        reader_.At(table_),
        path_ +
            ": type \"ram_role_arn\" needs credentials to assume the role "
            "with; set source_account to another [[account]]'s name, or "
            "access_key_id and access_key_secret (or their *_env / *_file "
            "forms)");
    return;
  }
  if (first_inline != nullptr) {
    credentials.source_keys.emplace();
    LoadInlineKeys(*credentials.source_keys);
    return;
  }
  if (auto source = reader_.NonEmptyString(
          field,
          "name another [[account]] whose credentials assume the role")) {
    if (*source == account_) {
      reader_.Error(
          reader_.At(*field.node),
          field.path +
              ": names this account itself; name another [[account]] whose "
              "credentials assume the role, or set access_key_id and "
              "access_key_secret");
      return;
    }
    credentials.source_account = *source;
    owner_.source_references_.push_back(
        {account_, *source, reader_.At(*field.node), field.path});
  }
}

void CredentialsLoader::TableLoader::LoadRoleKeys(std::string& role_arn,
                                                  std::string& session_name,
                                                  Millis& duration) {
  if (auto arn = LoadRamArn("role_arn", "role",
                            "acs:ram::1234567890123456:role/sas-reader")) {
    role_arn = std::move(*arn);
  }

  constexpr std::string_view kSessionNameRule =
      "use 2 to 64 characters of A-Z, a-z, 0-9, \".\", \"@\", \"_\" and \"-\"";
  TomlField field = Get("role_session_name");
  if (field.node != nullptr) {
    if (auto name = reader_.String(field)) {
      if (IsValidRoleSessionName(*name)) {
        session_name = std::move(*name);
      } else {
        reader_.Error(reader_.At(*field.node),
                      field.path + ": invalid session name " + Quoted(*name) +
                          "; " + std::string(kSessionNameRule));
      }
    }
  } else if (std::optional<std::string> name =
                 owner_.env_.Get(std::string(kEnvRoleSessionName));
             name && !name->empty()) {
    if (IsValidRoleSessionName(*name)) {
      session_name = std::move(*name);
    } else {
      reader_.Error(reader_.At(table_), field.path + ": environment variable " +
                                            std::string(kEnvRoleSessionName) +
                                            " holds an invalid session name " +
                                            Quoted(*name) + "; " +
                                            std::string(kSessionNameRule) +
                                            ", or set role_session_name here");
    }
  } else {
    session_name = std::string(kDefaultRoleSessionName);
  }

  if (auto d = reader_.Duration(Get("duration"), kMinRoleDuration,
                                kMaxRoleDuration)) {
    duration = *d;
  }
}

std::optional<std::string> CredentialsLoader::TableLoader::LoadRamArn(
    std::string_view key, std::string_view resource, std::string_view example) {
  TomlField field = reader_.Require(
      table_, path_, key, "e.g. " + std::string(key) + " = " + Quoted(example));
  std::optional<std::string> arn = reader_.String(field);
  if (arn && !IsRamArn(*arn, resource)) {
    reader_.Error(
        reader_.At(*field.node),
        field.path + ": invalid ARN " + Quoted(*arn) +
            "; expected \"acs:ram::<account id>:" + std::string(resource) +
            "/<name>\", e.g. " + Quoted(example));
    return std::nullopt;
  }
  return arn;
}

void CredentialsLoader::TableLoader::operator()(
    EcsRamRoleCredentials& credentials) {
  CheckKeys(kEcsRamRoleKeys, false);
  if (auto role = reader_.NonEmptyString(
          Get("role_name"),
          "remove the key to ask the metadata service for the role")) {
    credentials.role_name = std::move(*role);
  }
  if (auto disabled = reader_.Boolean(Get("imds_v1_disabled"))) {
    credentials.imds_v1_disabled = *disabled;
  }
}

void CredentialsLoader::TableLoader::operator()(
    OidcRoleArnCredentials& credentials) {
  CheckKeys(kOidcRoleArnKeys, false);
  LoadRoleKeys(credentials.role_arn, credentials.role_session_name,
               credentials.duration);
  if (auto arn =
          LoadRamArn("oidc_provider_arn", "oidc-provider",
                     "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123")) {
    credentials.oidc_provider_arn = std::move(*arn);
  }
  TomlField field = reader_.Require(
      table_, path_, "oidc_token_file",
      "e.g. oidc_token_file = "
      "\"/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token\"");
  if (auto file = reader_.NonEmptyString(field, "name the OIDC token's file")) {
    // Only readability is checked: the token is read again at every refresh
    // and never appears in a message.
    if (FileReadResult read = owner_.files_.ReadFile(*file); !read.ok) {
      reader_.Error(
          reader_.At(*field.node),
          field.path + ": cannot read " + Quoted(*file) + ": " + read.error);
    }
    credentials.oidc_token_file = std::move(*file);
  }
}

void CredentialsLoader::TableLoader::LoadProfile(std::string& profile,
                                                 std::string& file,
                                                 std::string_view profile_hint,
                                                 std::string_view file_hint) {
  if (auto value = reader_.NonEmptyString(Get("profile"), profile_hint)) {
    profile = std::move(*value);
  }
  if (auto value = reader_.NonEmptyString(Get("file"), file_hint)) {
    file = std::move(*value);
  }
}

void CredentialsLoader::TableLoader::operator()(
    CredentialsUriCredentials& credentials) {
  CheckKeys(kUriKeys, false);
  TomlField field = reader_.Require(
      table_, path_, "uri", "e.g. uri = \"http://127.0.0.1:8080/credentials\"");
  if (auto uri = reader_.String(field)) {
    // The URL is not quoted back: it may carry a token.
    if (IsHttpUrl(*uri)) {
      credentials.uri = std::move(*uri);
    } else {
      reader_.Error(
          reader_.At(*field.node),
          field.path +
              ": must be an http:// or https:// URL with a host, without "
              "spaces, e.g. \"http://127.0.0.1:8080/credentials\"");
    }
  }
}

std::optional<aliyun::Endpoint>
CredentialsLoader::TableLoader::LoadEndpointOverride(std::string_view key) {
  TomlField field = Get(key);
  std::optional<std::string> url = reader_.String(field);
  if (!url) return std::nullopt;
  std::string error;
  std::optional<aliyun::Endpoint> endpoint =
      aliyun::ParseEndpoint(*url, &error);
  if (!endpoint)
    reader_.Error(reader_.At(*field.node), field.path + ": " + error);
  return endpoint;
}

std::optional<std::string> CredentialsLoader::TableLoader::LoadSecret(
    const SecretKey& key) {
  struct Spelling {
    std::string key;
    SecretOrigin origin;
    const toml::node* node;
  };
  constexpr SecretOrigin kOrigins[] = {
      SecretOrigin::kLiteral, SecretOrigin::kEnvironment, SecretOrigin::kFile};
  static_assert(std::size(kOrigins) == std::size(kSecretSuffixes));
  std::vector<Spelling> present;
  for (size_t i = 0; i < std::size(kOrigins); ++i) {
    std::string name = std::string(key.name) + std::string(kSecretSuffixes[i]);
    if (const toml::node* node = table_.get(name)) {
      present.push_back({std::move(name), kOrigins[i], node});
    }
  }
  std::string name(key.name);
  std::string choices = name + ", " + name + "_env or " + name + "_file";

  if (present.empty()) {
    if (key.required) {
      reader_.Error(reader_.At(table_),
                    JoinKeyPath(path_, name) +
                        ": required key is missing; set one of " + choices);
    }
    return std::nullopt;
  }
  if (present.size() > 1) {
    std::sort(present.begin(), present.end(),
              [](const Spelling& a, const Spelling& b) {
                return a.node->source().begin < b.node->source().begin;
              });
    for (size_t i = 1; i < present.size(); ++i) {
      reader_.Error(reader_.At(*present[i].node),
                    JoinKeyPath(path_, present[i].key) + ": conflicts with " +
                        present[0].key + " at line " +
                        std::to_string(present[0].node->source().begin.line) +
                        "; set only one of " + choices);
    }
    return std::nullopt;
  }

  const Spelling& spelling = present[0];
  TomlField field{spelling.node, JoinKeyPath(path_, spelling.key)};
  std::optional<std::string> reference = reader_.String(field);
  if (!reference) return std::nullopt;
  SecretLookup lookup =
      ResolveSecret(spelling.origin, *reference, owner_.env_, owner_.files_);
  if (!lookup.value) {
    reader_.Error(reader_.At(*spelling.node), field.path + ": " + lookup.error);
    return std::nullopt;
  }
  if (spelling.origin == SecretOrigin::kLiteral && key.secret &&
      owner_.ConfigReadableByOthers()) {
    reader_.Warning(
        reader_.At(*spelling.node),
        field.path +
            ": a secret is written in a configuration file that other "
            "users can read; run chmod 600 " +
            reader_.file() + ", or use " + name + "_env or " + name +
            "_file instead");
  }
  return lookup.value;
}

CredentialsLoader::CredentialsLoader(TomlReader& reader, const Environment& env,
                                     const FileSystem& files)
    : reader_(reader), env_(env), files_(files) {}

bool CredentialsLoader::ConfigReadableByOthers() {
  if (!readable_by_others_) {
    readable_by_others_ = files_.IsReadableByOthers(reader_.file());
  }
  return *readable_by_others_;
}

CredentialsLoader::Loaded CredentialsLoader::Load(
    const TomlField& field, const std::string& account,
    const SourcePosition& account_position) {
  Loaded loaded;
  if (field.node == nullptr) {
    loaded.credentials = DefaultCredentials{.from_environment = true};
    loaded.position = account_position;
    return loaded;
  }
  const toml::table* table = reader_.Table(field);
  if (table == nullptr) return loaded;
  loaded.position = reader_.At(*table);

  TomlField type_field = TomlReader::Get(*table, field.path, "type");
  std::string type(AccessKeyCredentials::kType);
  if (type_field.node != nullptr) {
    std::optional<std::string> written = reader_.String(type_field);
    if (!written) return loaded;
    type = std::move(*written);
  }
  std::optional<CredentialsConfig> credentials =
      AlternativeOfType(type, std::type_identity<CredentialsConfig>());
  if (!credentials) {
    std::string message =
        type_field.path + ": unknown credentials type " + Quoted(type);
    std::string nearest = NearestWord(
        type, std::vector<std::string_view>(std::begin(kCredentialTypes),
                                            std::end(kCredentialTypes)));
    if (nearest.empty()) nearest = UniqueTypeWithPrefix(type);
    if (!nearest.empty()) message += "; did you mean " + Quoted(nearest) + "?";
    message += " (valid types: " + QuotedList(kCredentialTypes) + ")";
    reader_.Error(reader_.At(*type_field.node), std::move(message));
    return loaded;
  }

  TableLoader table_loader(*this, *table, field.path, account);
  table_loader.owner_type = "type " + Quoted(type);
  std::visit(table_loader, *credentials);
  loaded.credentials = std::move(*credentials);
  loaded.endpoints.sts = table_loader.LoadEndpointOverride("sts_endpoint");
  loaded.endpoints.metadata =
      table_loader.LoadEndpointOverride("metadata_endpoint");
  TomlField sts_region = TomlReader::Get(*table, field.path, "sts_region");
  if (auto region = reader_.NonEmptyString(
          sts_region, "remove the key to use sts.aliyuncs.com")) {
    if (!aliyun::IsValidRegionId(*region)) {
      reader_.Error(reader_.At(*sts_region.node),
                    sts_region.path + ": invalid region id " + Quoted(*region) +
                        "; expected a region id such as \"cn-hangzhou\"");
    } else if (const toml::node* endpoint = table->get("sts_endpoint")) {
      reader_.Error(reader_.At(*sts_region.node),
                    sts_region.path + ": conflicts with sts_endpoint at line " +
                        std::to_string(endpoint->source().begin.line) +
                        "; set only one of them");
    } else {
      loaded.endpoints.sts_region = std::move(*region);
    }
  }
  return loaded;
}

void CredentialsLoader::CheckSourceAccounts(
    const std::map<std::string, int>& account_lines) {
  std::vector<std::string_view> names;
  for (const auto& [name, line] : account_lines) names.push_back(name);
  // Account name -> the account it names, for the first account of a name.
  std::map<std::string, std::string> sources;
  for (const SourceReference& reference : source_references_) {
    if (!account_lines.contains(reference.source)) {
      std::string message =
          reference.path + ": no account named " + Quoted(reference.source);
      std::string nearest = NearestWord(reference.source, names);
      if (!nearest.empty() && nearest != reference.account) {
        message += "; did you mean " + Quoted(nearest) + "?";
      }
      message += " (defined accounts: " + QuotedList(names) + ")";
      reader_.Error(reference.position, std::move(message));
    } else if (!reference.account.empty()) {
      sources.emplace(reference.account, reference.source);
    }
  }

  // Each cycle is reported once, at its member written first.
  std::vector<const SourceReference*> in_file_order;
  for (const SourceReference& reference : source_references_) {
    in_file_order.push_back(&reference);
  }
  std::stable_sort(in_file_order.begin(), in_file_order.end(),
                   [](const SourceReference* a, const SourceReference* b) {
                     return std::tie(a->position.line, a->position.column) <
                            std::tie(b->position.line, b->position.column);
                   });
  std::set<std::string> in_reported_cycle;
  for (const SourceReference* reference : in_file_order) {
    const std::string& start = reference->account;
    if (start.empty() || in_reported_cycle.contains(start)) continue;
    std::vector<std::string> chain = {start};
    std::set<std::string> seen = {start};
    for (auto it = sources.find(start); it != sources.end();
         it = sources.find(it->second)) {
      chain.push_back(it->second);
      if (!seen.insert(it->second).second) break;
    }
    if (chain.size() < 2 || chain.back() != start) continue;
    std::string cycle;
    for (const std::string& name : chain) {
      if (!cycle.empty()) cycle += " -> ";
      cycle += name;
      in_reported_cycle.insert(name);
    }
    reader_.Error(reference->position,
                  reference->path + ": source accounts form a cycle: " + cycle +
                      "; one of these accounts needs credentials of its own");
  }
}

}  // namespace sas::config
