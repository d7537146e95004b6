#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <sstream>
#include <tuple>

#include "aliyun/endpoints.h"
#include "config/secret_source.h"
#include "util/strings.h"

namespace sas::config {
namespace {

constexpr std::string_view kTopLevelKeys[] = {"exporter", "account", "task"};
constexpr std::string_view kExporterKeys[] = {
    "poll_interval", "concurrency",        "request_timeout", "connect_timeout",
    "max_retries",   "finished_retention", "task_files",      "max_tasks"};
constexpr std::string_view kAccountKeys[] = {"name",
                                             "region",
                                             "endpoint",
                                             "network",
                                             "signature_version",
                                             "max_requests_per_second",
                                             "ca_file",
                                             "credentials"};
constexpr std::string_view kTaskKeys[] = {"account", "export_id",
                                          "rd_account_id", "name"};

// Credential types, in the order messages list them. Each has a loader in
// Loader::LoadCredentials and a list of keys below; every list holds "type"
// and the two endpoint overrides, which every type accepts.
constexpr std::string_view kCredentialTypes[] = {
    "access_key",  "ram_role_arn",     "ecs_ram_role",    "oidc_role_arn",
    "cli_profile", "credentials_file", "credentials_uri", "default"};
constexpr std::string_view kAccessKeyCredentialKeys[] = {
    "type",
    "access_key_id",
    "access_key_id_env",
    "access_key_id_file",
    "access_key_secret",
    "access_key_secret_env",
    "access_key_secret_file",
    "security_token",
    "security_token_env",
    "security_token_file",
    "sts_endpoint",
    "metadata_endpoint"};
constexpr std::string_view kRamRoleArnCredentialKeys[] = {
    "type",
    "role_arn",
    "role_session_name",
    "duration",
    "policy",
    "external_id",
    "source_account",
    "access_key_id",
    "access_key_id_env",
    "access_key_id_file",
    "access_key_secret",
    "access_key_secret_env",
    "access_key_secret_file",
    "security_token",
    "security_token_env",
    "security_token_file",
    "sts_endpoint",
    "metadata_endpoint"};
constexpr std::string_view kEcsRamRoleCredentialKeys[] = {
    "type", "role_name", "imds_v1_disabled", "sts_endpoint",
    "metadata_endpoint"};
constexpr std::string_view kOidcRoleArnCredentialKeys[] = {"type",
                                                           "role_arn",
                                                           "oidc_provider_arn",
                                                           "oidc_token_file",
                                                           "role_session_name",
                                                           "duration",
                                                           "sts_endpoint",
                                                           "metadata_endpoint"};
// cli_profile and credentials_file.
constexpr std::string_view kProfileCredentialKeys[] = {
    "type", "profile", "file", "sts_endpoint", "metadata_endpoint"};
constexpr std::string_view kUriCredentialKeys[] = {
    "type", "uri", "sts_endpoint", "metadata_endpoint"};
constexpr std::string_view kDefaultCredentialKeys[] = {"type", "sts_endpoint",
                                                       "metadata_endpoint"};

// The keys that carry an access key, inline in a credentials table.
constexpr std::string_view kAccessKeyNames[] = {
    "access_key_id", "access_key_secret", "security_token"};

constexpr std::string_view kEnvRoleSessionName =
    "ALIBABA_CLOUD_ROLE_SESSION_NAME";
constexpr std::string_view kDefaultRoleSessionName = "aliyun_sas_exporter";

constexpr int kMaxConcurrency = 256;
constexpr int kMaxRetries = 10;
constexpr int64_t kMaxTasksLimit = 1'000'000;
constexpr double kMaxRequestsPerSecond = 10'000;
constexpr size_t kMaxAccountNameLength = 64;
// STS DurationSeconds: 900 s up to the longest role session allowed.
constexpr Millis kMinRoleDuration{15 * 60'000};
constexpr Millis kMaxRoleDuration{12 * 3'600'000};

// A non-secret value as a JSON string literal, control characters escaped.
std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string QuotedList(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += Quoted(word);
  }
  return out;
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string Indexed(std::string_view name, size_t index) {
  return std::string(name) + "[" + std::to_string(index + 1) + "]";
}

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string FormatNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

bool IsValidAccountName(std::string_view name) {
  if (name.empty() || name.size() > kMaxAccountNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
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

// toml++ quotes bits of the offending text in its messages ("saw 's'").
// When the broken line mentions a secret or a token, those bits are removed.
std::string RedactParseError(std::string description,
                             std::string_view line_text) {
  std::string line = ToLower(line_text);
  if (line.find("secret") == std::string::npos &&
      line.find("token") == std::string::npos) {
    return description;
  }
  std::string out;
  bool in_quote = false;
  for (char c : description) {
    if (c == '\'') {
      if (!in_quote) out += "'<redacted>'";
      in_quote = !in_quote;
    } else if (!in_quote) {
      out += c;
    }
  }
  return out;
}

std::string_view LineOf(std::string_view text, size_t line) {
  for (size_t i = 1; i < line; ++i) {
    size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return {};
    text.remove_prefix(newline + 1);
  }
  return text.substr(0, text.find('\n'));
}

// A value looked up in a table: the node (nullptr when absent) and the full
// path of its key for messages.
struct Field {
  const toml::node* node = nullptr;
  std::string path;
};

// One secret-bearing key of a credentials table, with its three spellings.
struct SecretKey {
  std::string_view name;
  bool required;
  // Literal values of secrets draw a warning in a file others can read.
  bool secret;
};

// Walks the parsed document once, filling config_ and collecting every
// problem. Not thread-safe; one Loader per load.
class Loader {
 public:
  Loader(const std::string& path, const Environment& env,
         const FileSystem& files)
      : path_(path), env_(env), files_(files) {}

  LoadResult Load(std::string_view text);

 private:
  SourcePosition At(const toml::source_region& region) const {
    return {path_, static_cast<int>(region.begin.line),
            static_cast<int>(region.begin.column)};
  }
  SourcePosition At(const toml::node& node) const { return At(node.source()); }

  void Error(const SourcePosition& position, std::string message) {
    diagnostics_.push_back(
        {Diagnostic::Severity::kError, position, std::move(message)});
    has_errors_ = true;
  }
  void Warning(const SourcePosition& position, std::string message) {
    diagnostics_.push_back(
        {Diagnostic::Severity::kWarning, position, std::move(message)});
  }

  // Reports every key of table that is not in allowed; `owner`, when not
  // empty, says whose keys they are ("type \"ecs_ram_role\"").
  void CheckKeys(const toml::table& table, std::string_view path,
                 std::span<const std::string_view> allowed,
                 std::string_view owner = "");

  Field Get(const toml::table& table, std::string_view path,
            std::string_view key) const {
    return {table.get(key), Join(path, key)};
  }
  // Like Get, but reports a missing key at the table, followed by hint.
  Field Require(const toml::table& table, std::string_view path,
                std::string_view key, std::string_view hint);

  // Typed reads: nullopt when the field is absent or has the wrong type (the
  // latter reported).
  std::optional<std::string> String(const Field& field);
  std::optional<int64_t> Integer(const Field& field);
  std::optional<double> Number(const Field& field);
  std::optional<Millis> Duration(const Field& field);
  std::optional<bool> Boolean(const Field& field);
  const toml::table* Table(const Field& field);
  // A string that must not be empty: "" is reported, followed by hint, and
  // gives nullopt.
  std::optional<std::string> NonEmptyString(const Field& field,
                                            std::string_view hint);

  // A positive integer (ids), or nullopt with the problem reported.
  std::optional<int64_t> PositiveInteger(const Field& field);
  // The elements of an array of tables, reporting any that are not tables.
  std::vector<std::pair<const toml::table*, std::string>> TableArray(
      const Field& field);

  void LoadExporter(const toml::table& root);
  void LoadAccount(const toml::table& table, const std::string& path);
  void LoadEndpoint(const toml::table& table, const std::string& path,
                    AccountConfig& account);
  void LoadCredentials(const toml::table& account_table,
                       const std::string& account_path, AccountConfig& account);
  // The keys of one credential type; `account` is the account loading.
  void LoadAccessKeyCredentials(const toml::table& table,
                                const std::string& path,
                                CredentialsConfig& credentials);
  void LoadRamRoleArnCredentials(const toml::table& table,
                                 const std::string& path,
                                 const AccountConfig& account,
                                 CredentialsConfig& credentials);
  void LoadEcsRamRoleCredentials(const toml::table& table,
                                 const std::string& path,
                                 CredentialsConfig& credentials);
  void LoadOidcRoleArnCredentials(const toml::table& table,
                                  const std::string& path,
                                  CredentialsConfig& credentials);
  void LoadProfileCredentials(const toml::table& table, const std::string& path,
                              CredentialsConfig& credentials);
  void LoadUriCredentials(const toml::table& table, const std::string& path,
                          CredentialsConfig& credentials);
  // access_key_id, access_key_secret (both required) and security_token into
  // keys.
  void LoadInlineKeys(const toml::table& table, const std::string& path,
                      aliyun::Credentials& keys);
  // role_arn (required), role_session_name and duration, shared by
  // ram_role_arn and oidc_role_arn.
  void LoadRoleKeys(const toml::table& table, const std::string& path,
                    CredentialsConfig& credentials);
  // A required "acs:ram::<digits>:<resource>/<name>" key.
  std::optional<std::string> LoadRamArn(const toml::table& table,
                                        const std::string& path,
                                        std::string_view key,
                                        std::string_view resource,
                                        std::string_view example);
  // sts_endpoint or metadata_endpoint.
  std::optional<aliyun::Endpoint> LoadEndpointOverride(const Field& field);
  // After every account: each source_account names another defined account
  // and the references form no cycle.
  void CheckSourceAccounts();
  std::optional<std::string> LoadSecret(const toml::table& table,
                                        const std::string& path,
                                        const SecretKey& key);
  void LoadTask(const toml::table& table, const std::string& path);

  bool ConfigReadableByOthers() {
    if (!readable_by_others_) {
      readable_by_others_ = files_.IsReadableByOthers(path_);
    }
    return *readable_by_others_;
  }

  const std::string& path_;
  const Environment& env_;
  const FileSystem& files_;

  Config config_;
  std::vector<Diagnostic> diagnostics_;
  bool has_errors_ = false;
  std::optional<bool> readable_by_others_;
  // Valid account names -> the line of their first definition.
  std::map<std::string, int> account_lines_;
  // A ram_role_arn's source_account, checked once every account is known.
  struct SourceReference {
    std::string account;  // the referring account's name ("" if invalid)
    std::string source;   // the account it names
    SourcePosition position;
    std::string path;  // of the source_account key
  };
  std::vector<SourceReference> source_references_;
  // (account, rd_account_id, export_id) -> index and line of the first task.
  std::map<std::tuple<std::string, std::optional<int64_t>, int64_t>,
           std::pair<size_t, int>>
      task_lines_;
};

void Loader::CheckKeys(const toml::table& table, std::string_view path,
                       std::span<const std::string_view> allowed,
                       std::string_view owner) {
  for (auto&& [key, node] : table) {
    std::string_view name = key.str();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) {
      continue;
    }
    std::string message = Join(path, name) + ": unknown key";
    if (!owner.empty()) {
      message += " for ";
      message += owner;
    }
    std::string nearest = NearestWord(
        name, std::vector<std::string_view>(allowed.begin(), allowed.end()));
    if (!nearest.empty()) {
      message += "; did you mean " + Quoted(nearest) + "?";
    } else {
      message += "; valid keys here: " + QuotedList(allowed);
    }
    Error(At(key.source()), std::move(message));
  }
}

Field Loader::Require(const toml::table& table, std::string_view path,
                      std::string_view key, std::string_view hint) {
  Field field = Get(table, path, key);
  if (field.node == nullptr) {
    std::string message = field.path + ": required key is missing";
    if (!hint.empty()) {
      message += "; ";
      message += hint;
    }
    Error(At(table), std::move(message));
  }
  return field;
}

std::optional<std::string> Loader::String(const Field& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_string()) return value->get();
  Error(At(*field.node),
        field.path + ": expected string, found " + TypeName(*field.node));
  return std::nullopt;
}

std::optional<int64_t> Loader::Integer(const Field& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_integer()) return value->get();
  std::string message =
      field.path + ": expected integer, found " + TypeName(*field.node);
  if (const auto* text = field.node->as_string()) {
    const std::string& s = text->get();
    if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
          return c >= '0' && c <= '9';
        })) {
      message += "; write it without quotes";
    }
  }
  Error(At(*field.node), std::move(message));
  return std::nullopt;
}

std::optional<double> Loader::Number(const Field& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_integer()) {
    return static_cast<double>(value->get());
  }
  if (const auto* value = field.node->as_floating_point()) return value->get();
  Error(At(*field.node),
        field.path + ": expected a number, found " + TypeName(*field.node));
  return std::nullopt;
}

std::optional<Millis> Loader::Duration(const Field& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_integer()) {
    std::string n = std::to_string(value->get());
    Error(At(*field.node), field.path + ": expected a duration string, found " +
                               "integer " + n +
                               "; write the unit too, e.g. \"" + n + "s\"");
    return std::nullopt;
  }
  const auto* text = field.node->as_string();
  if (text == nullptr) {
    Error(At(*field.node),
          field.path + ": expected a duration string such as \"30s\", found " +
              TypeName(*field.node));
    return std::nullopt;
  }
  std::optional<Millis> duration = ParseDuration(text->get());
  if (!duration) {
    Error(At(*field.node),
          field.path + ": invalid duration " + Quoted(text->get()) +
              "; write numbers with units ms, s, m or h, e.g. \"500ms\", "
              "\"30s\", \"5m\", \"1h30m\"");
  }
  return duration;
}

std::optional<bool> Loader::Boolean(const Field& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_boolean()) return value->get();
  std::string message =
      field.path + ": expected boolean, found " + TypeName(*field.node);
  if (const auto* text = field.node->as_string();
      text != nullptr && (text->get() == "true" || text->get() == "false")) {
    message += "; write it without quotes";
  }
  Error(At(*field.node), std::move(message));
  return std::nullopt;
}

std::optional<std::string> Loader::NonEmptyString(const Field& field,
                                                  std::string_view hint) {
  std::optional<std::string> value = String(field);
  if (value && value->empty()) {
    Error(At(*field.node),
          field.path + ": must not be empty; " + std::string(hint));
    return std::nullopt;
  }
  return value;
}

const toml::table* Loader::Table(const Field& field) {
  if (field.node == nullptr) return nullptr;
  if (const auto* table = field.node->as_table()) return table;
  Error(At(*field.node),
        field.path + ": expected table, found " + TypeName(*field.node));
  return nullptr;
}

std::optional<int64_t> Loader::PositiveInteger(const Field& field) {
  std::optional<int64_t> value = Integer(field);
  if (value && *value <= 0) {
    Error(At(*field.node), field.path + ": must be a positive integer, got " +
                               std::to_string(*value));
    return std::nullopt;
  }
  return value;
}

std::vector<std::pair<const toml::table*, std::string>> Loader::TableArray(
    const Field& field) {
  std::vector<std::pair<const toml::table*, std::string>> tables;
  if (field.node == nullptr) return tables;
  const auto* array = field.node->as_array();
  if (array == nullptr) {
    std::string message = field.path + ": expected an array of tables, found " +
                          TypeName(*field.node);
    if (field.node->is_table()) {
      message +=
          "; write [[" + field.path + "]] instead of [" + field.path + "]";
    }
    Error(At(*field.node), std::move(message));
    return tables;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string path = Indexed(field.path, i);
    if (const auto* table = element.as_table()) {
      tables.emplace_back(table, std::move(path));
    } else {
      Error(At(element), path + ": expected table, found " + TypeName(element));
    }
  }
  return tables;
}

void Loader::LoadExporter(const toml::table& root) {
  const toml::table* table = Table(Get(root, "", "exporter"));
  if (table == nullptr) return;
  const std::string path = "exporter";
  CheckKeys(*table, path, kExporterKeys);
  ExporterConfig& exporter = config_.exporter;

  Field field = Get(*table, path, "poll_interval");
  if (auto d = Duration(field)) {
    if (*d < kMinPollInterval || *d > kMaxPollInterval) {
      Error(At(*field.node), field.path + ": must be between " +
                                 FormatDuration(kMinPollInterval) + " and " +
                                 FormatDuration(kMaxPollInterval) + ", got " +
                                 Quoted(FormatDuration(*d)));
    } else {
      exporter.poll_interval = *d;
    }
  }

  field = Get(*table, path, "concurrency");
  if (auto n = Integer(field)) {
    if (*n < 1 || *n > kMaxConcurrency) {
      Error(At(*field.node), field.path + ": must be between 1 and " +
                                 std::to_string(kMaxConcurrency) + ", got " +
                                 std::to_string(*n));
    } else {
      exporter.concurrency = static_cast<int>(*n);
    }
  }

  for (auto [key, target] :
       {std::pair{"request_timeout", &exporter.request_timeout},
        std::pair{"connect_timeout", &exporter.connect_timeout}}) {
    field = Get(*table, path, key);
    if (auto d = Duration(field)) {
      if (*d <= Millis(0) || *d > kMaxTimeout) {
        Error(At(*field.node),
              field.path + ": must be longer than 0s and at most " +
                  FormatDuration(kMaxTimeout) + ", got " +
                  Quoted(FormatDuration(*d)) + "; e.g. \"10s\"");
      } else {
        *target = *d;
      }
    }
  }

  field = Get(*table, path, "max_retries");
  if (auto n = Integer(field)) {
    if (*n < 0 || *n > kMaxRetries) {
      Error(At(*field.node), field.path + ": must be between 0 and " +
                                 std::to_string(kMaxRetries) + ", got " +
                                 std::to_string(*n));
    } else {
      exporter.max_retries = static_cast<int>(*n);
    }
  }

  field = Get(*table, path, "finished_retention");
  if (auto d = Duration(field)) {
    if (*d > kMaxFinishedRetention) {
      Error(At(*field.node), field.path + ": must be between 0s and " +
                                 FormatDuration(kMaxFinishedRetention) +
                                 ", got " + Quoted(FormatDuration(*d)));
    } else {
      exporter.finished_retention = *d;
    }
  }

  field = Get(*table, path, "task_files");
  if (field.node != nullptr) {
    if (const toml::array* patterns = field.node->as_array()) {
      for (size_t i = 0; i < patterns->size(); ++i) {
        const toml::node& element = *patterns->get(i);
        std::string element_path = field.path + "[" + std::to_string(i) + "]";
        if (!element.is_string() || element.as_string()->get().empty()) {
          Error(At(element), element_path +
                                 ": expected a non-empty string (a path or a "
                                 "glob pattern such as \"/etc/aliyun_sas_"
                                 "exporter/tasks.d/*.json\"), found " +
                                 TypeName(element));
          continue;
        }
        exporter.task_files.push_back(element.as_string()->get());
      }
    } else {
      Error(At(*field.node),
            field.path +
                ": expected an array of paths or glob patterns, e.g. "
                "[\"/etc/aliyun_sas_exporter/tasks.d/*.json\"], "
                "found " +
                TypeName(*field.node));
    }
  }

  field = Get(*table, path, "max_tasks");
  if (auto n = Integer(field)) {
    if (*n < 1 || *n > kMaxTasksLimit) {
      Error(At(*field.node), field.path + ": must be between 1 and " +
                                 std::to_string(kMaxTasksLimit) + ", got " +
                                 std::to_string(*n));
    } else {
      exporter.max_tasks = static_cast<int>(*n);
    }
  }
}

void Loader::LoadAccount(const toml::table& table, const std::string& path) {
  CheckKeys(table, path, kAccountKeys);
  AccountConfig account;
  account.position = At(table);

  Field field = Require(table, path, "name",
                        "give the account a unique name, e.g. name = \"prod\"");
  if (auto name = String(field)) {
    if (!IsValidAccountName(*name)) {
      Error(At(*field.node),
            field.path + ": invalid account name " + Quoted(*name) +
                "; use 1 to 64 characters of A-Z, a-z, 0-9, \"_\", \".\" and "
                "\"-\"");
    } else if (auto [it, inserted] =
                   account_lines_.emplace(*name, At(*field.node).line);
               !inserted) {
      Error(At(*field.node), field.path + ": duplicate account name " +
                                 Quoted(*name) + "; first defined at line " +
                                 std::to_string(it->second));
    }
    account.name = *name;
  }

  field = Get(table, path, "network");
  if (auto network = String(field)) {
    if (*network == "public" || *network == "vpc") {
      account.network = *network;
    } else {
      Error(At(*field.node), field.path + ": invalid value " +
                                 Quoted(*network) +
                                 "; expected \"public\" (the Internet "
                                 "endpoints) or \"vpc\" (the VPC endpoints)");
    }
  }

  LoadEndpoint(table, path, account);

  field = Get(table, path, "signature_version");
  if (auto version = String(field)) {
    if (*version == "v3") {
      account.signature_version = aliyun::SignatureVersion::kV3;
    } else if (*version == "v1") {
      account.signature_version = aliyun::SignatureVersion::kV1;
    } else {
      Error(At(*field.node), field.path + ": invalid value " +
                                 Quoted(*version) +
                                 "; expected \"v3\" (ACS3-HMAC-SHA256) or "
                                 "\"v1\" (HMAC-SHA1)");
    }
  }

  field = Get(table, path, "max_requests_per_second");
  if (auto rate = Number(field)) {
    if (!(*rate > 0 && *rate <= kMaxRequestsPerSecond)) {
      Error(At(*field.node), field.path +
                                 ": must be greater than 0 and at most " +
                                 FormatNumber(kMaxRequestsPerSecond) +
                                 ", got " + FormatNumber(*rate));
    } else {
      account.max_requests_per_second = *rate;
    }
  }

  field = Get(table, path, "ca_file");
  if (auto ca_file = String(field)) {
    if (ca_file->empty()) {
      Error(At(*field.node),
            field.path +
                ": must name a file; remove the key to trust only the system "
                "certificate store");
    } else if (FileReadResult read = files_.ReadFile(*ca_file); !read.ok) {
      Error(At(*field.node), field.path + ": cannot read " + Quoted(*ca_file) +
                                 ": " + read.error);
    }
    account.ca_file = *ca_file;
  }

  LoadCredentials(table, path, account);
  config_.accounts.push_back(std::move(account));
}

void Loader::LoadEndpoint(const toml::table& table, const std::string& path,
                          AccountConfig& account) {
  Field region_field = Get(table, path, "region");
  Field endpoint_field = Get(table, path, "endpoint");
  if (region_field.node == nullptr && endpoint_field.node == nullptr) {
    Error(At(table), path +
                         ": needs \"region\" or \"endpoint\"; e.g. region = "
                         "\"cn-hangzhou\" or endpoint = "
                         "\"https://tds.cn-shanghai.aliyuncs.com\"");
    return;
  }

  bool region_ok = false;
  if (auto region = String(region_field)) {
    if (aliyun::IsValidRegionId(*region)) {
      account.region = *region;
      region_ok = true;
    } else {
      Error(At(*region_field.node),
            region_field.path + ": invalid region id " + Quoted(*region) +
                "; expected a region id such as \"cn-hangzhou\" or "
                "\"ap-southeast-1\"");
    }
  }

  if (endpoint_field.node != nullptr) {
    if (auto url = String(endpoint_field)) {
      std::string error;
      if (auto endpoint = aliyun::ParseEndpoint(*url, &error)) {
        account.endpoint = *endpoint;
      } else {
        // ParseEndpoint's messages name the problem without quoting the
        // URL, which may carry a password.
        Error(At(*endpoint_field.node), endpoint_field.path + ": " + error);
      }
    }
  } else if (region_ok) {
    account.endpoint.scheme = "https";
    account.endpoint.host =
        aliyun::SasHostForRegion(account.region, account.network == "vpc");
    account.endpoint.port = 443;
  }
}

void Loader::LoadCredentials(const toml::table& account_table,
                             const std::string& account_path,
                             AccountConfig& account) {
  CredentialsConfig& credentials = account.credentials;
  Field field = Get(account_table, account_path, "credentials");
  if (field.node == nullptr) {
    // The official default chain, resolved by the providers at run time.
    credentials.type = "default";
    credentials.from_environment = true;
    credentials.position = account.position;
    return;
  }
  const toml::table* table = Table(field);
  if (table == nullptr) return;
  credentials.position = At(*table);
  credentials.type = "access_key";

  Field type_field = Get(*table, field.path, "type");
  if (type_field.node != nullptr) {
    std::optional<std::string> type = String(type_field);
    if (!type) return;
    if (std::find(std::begin(kCredentialTypes), std::end(kCredentialTypes),
                  *type) == std::end(kCredentialTypes)) {
      std::string message =
          type_field.path + ": unknown credentials type " + Quoted(*type);
      std::string nearest = NearestWord(
          *type, std::vector<std::string_view>(std::begin(kCredentialTypes),
                                               std::end(kCredentialTypes)));
      if (nearest.empty()) nearest = UniqueTypeWithPrefix(*type);
      if (!nearest.empty())
        message += "; did you mean " + Quoted(nearest) + "?";
      message += " (valid types: " + QuotedList(kCredentialTypes) + ")";
      Error(At(*type_field.node), std::move(message));
      return;
    }
    credentials.type = *type;
  }

  const std::string& type = credentials.type;
  const std::string& path = field.path;
  const std::string owner = "type " + Quoted(type);
  if (type == "access_key") {
    CheckKeys(*table, path, kAccessKeyCredentialKeys, owner);
    LoadAccessKeyCredentials(*table, path, credentials);
  } else if (type == "ram_role_arn") {
    CheckKeys(*table, path, kRamRoleArnCredentialKeys, owner);
    LoadRamRoleArnCredentials(*table, path, account, credentials);
  } else if (type == "ecs_ram_role") {
    CheckKeys(*table, path, kEcsRamRoleCredentialKeys, owner);
    LoadEcsRamRoleCredentials(*table, path, credentials);
  } else if (type == "oidc_role_arn") {
    CheckKeys(*table, path, kOidcRoleArnCredentialKeys, owner);
    LoadOidcRoleArnCredentials(*table, path, credentials);
  } else if (type == "cli_profile" || type == "credentials_file") {
    CheckKeys(*table, path, kProfileCredentialKeys, owner);
    LoadProfileCredentials(*table, path, credentials);
  } else if (type == "credentials_uri") {
    CheckKeys(*table, path, kUriCredentialKeys, owner);
    LoadUriCredentials(*table, path, credentials);
  } else {
    CheckKeys(*table, path, kDefaultCredentialKeys, owner);
  }

  credentials.sts_endpoint =
      LoadEndpointOverride(Get(*table, path, "sts_endpoint"));
  credentials.metadata_endpoint =
      LoadEndpointOverride(Get(*table, path, "metadata_endpoint"));
}

void Loader::LoadAccessKeyCredentials(const toml::table& table,
                                      const std::string& path,
                                      CredentialsConfig& credentials) {
  LoadInlineKeys(table, path, credentials.static_credentials);
}

void Loader::LoadInlineKeys(const toml::table& table, const std::string& path,
                            aliyun::Credentials& keys) {
  if (auto id = LoadSecret(table, path, {"access_key_id", true, false})) {
    keys.access_key_id = std::move(*id);
  }
  if (auto secret =
          LoadSecret(table, path, {"access_key_secret", true, true})) {
    keys.access_key_secret = std::move(*secret);
  }
  if (auto token = LoadSecret(table, path, {"security_token", false, true})) {
    keys.security_token = std::move(*token);
  }
}

void Loader::LoadRamRoleArnCredentials(const toml::table& table,
                                       const std::string& path,
                                       const AccountConfig& account,
                                       CredentialsConfig& credentials) {
  LoadRoleKeys(table, path, credentials);

  Field field = Get(table, path, "policy");
  if (auto policy = NonEmptyString(field, "remove the key for no policy")) {
    try {
      nlohmann::json document = nlohmann::json::parse(*policy);
      if (document.is_object()) {
        credentials.policy = std::move(*policy);
      } else {
        Error(At(*field.node),
              field.path +
                  ": must be a JSON object (a policy document), found " +
                  document.type_name());
      }
    } catch (const nlohmann::json::parse_error& error) {
      Error(At(*field.node),
            field.path + ": invalid JSON at byte " +
                std::to_string(error.byte) +
                "; expected a policy document such as {\"Version\": \"1\", "
                "\"Statement\": [...]}");
    } catch (const nlohmann::json::exception&) {
      // out_of_range: a number beyond a double, such as 1e400.
      Error(At(*field.node),
            field.path +
                ": invalid JSON: a number is too large (beyond +-1.8e308)");
    }
  }

  field = Get(table, path, "external_id");
  if (auto external_id =
          NonEmptyString(field, "remove the key to send no ExternalId")) {
    credentials.external_id = std::move(*external_id);
  }

  // The source of the credentials that assume the role: an access key
  // written here, or another account.
  const toml::node* first_inline = nullptr;
  for (std::string_view name : kAccessKeyNames) {
    for (std::string_view suffix : {"", "_env", "_file"}) {
      const toml::node* node =
          table.get(std::string(name) + std::string(suffix));
      if (node != nullptr &&
          (first_inline == nullptr ||
           node->source().begin < first_inline->source().begin)) {
        first_inline = node;
      }
    }
  }
  field = Get(table, path, "source_account");
  if (field.node != nullptr && first_inline != nullptr) {
    Error(At(*field.node),
          field.path + ": conflicts with the access key at line " +
              std::to_string(first_inline->source().begin.line) +
              "; set either source_account or access_key_id and "
              "access_key_secret, not both");
    return;
  }
  if (field.node == nullptr && first_inline == nullptr) {
    Error(At(table),
          path +
              ": type \"ram_role_arn\" needs credentials to assume the role "
              "with; set source_account to another [[account]]'s name, or "
              "access_key_id and access_key_secret (or their *_env / *_file "
              "forms)");
    return;
  }
  if (first_inline != nullptr) {
    credentials.has_inline_source = true;
    LoadInlineKeys(table, path, credentials.static_credentials);
    return;
  }
  if (auto source = NonEmptyString(
          field,
          "name another [[account]] whose credentials assume the "
          "role")) {
    if (*source == account.name) {
      Error(At(*field.node),
            field.path +
                ": names this account itself; name another [[account]] whose "
                "credentials assume the role, or set access_key_id and "
                "access_key_secret");
      return;
    }
    credentials.source_account = *source;
    source_references_.push_back(
        {account.name, *source, At(*field.node), field.path});
  }
}

void Loader::LoadRoleKeys(const toml::table& table, const std::string& path,
                          CredentialsConfig& credentials) {
  if (auto arn = LoadRamArn(table, path, "role_arn", "role",
                            "acs:ram::1234567890123456:role/sas-reader")) {
    credentials.role_arn = std::move(*arn);
  }

  constexpr std::string_view kSessionNameRule =
      "use 2 to 64 characters of A-Z, a-z, 0-9, \".\", \"@\", \"_\" and \"-\"";
  Field field = Get(table, path, "role_session_name");
  if (field.node != nullptr) {
    if (auto name = String(field)) {
      if (IsValidRoleSessionName(*name)) {
        credentials.role_session_name = std::move(*name);
      } else {
        Error(At(*field.node), field.path + ": invalid session name " +
                                   Quoted(*name) + "; " +
                                   std::string(kSessionNameRule));
      }
    }
  } else if (std::optional<std::string> name =
                 env_.Get(std::string(kEnvRoleSessionName));
             name && !name->empty()) {
    if (IsValidRoleSessionName(*name)) {
      credentials.role_session_name = std::move(*name);
    } else {
      Error(At(table), field.path + ": environment variable " +
                           std::string(kEnvRoleSessionName) +
                           " holds an invalid session name " + Quoted(*name) +
                           "; " + std::string(kSessionNameRule) +
                           ", or set role_session_name here");
    }
  } else {
    credentials.role_session_name = std::string(kDefaultRoleSessionName);
  }

  field = Get(table, path, "duration");
  if (auto duration = Duration(field)) {
    if (*duration < kMinRoleDuration || *duration > kMaxRoleDuration) {
      Error(At(*field.node), field.path + ": must be between " +
                                 FormatDuration(kMinRoleDuration) + " and " +
                                 FormatDuration(kMaxRoleDuration) + ", got " +
                                 Quoted(FormatDuration(*duration)));
    } else {
      credentials.duration = *duration;
    }
  }
}

std::optional<std::string> Loader::LoadRamArn(const toml::table& table,
                                              const std::string& path,
                                              std::string_view key,
                                              std::string_view resource,
                                              std::string_view example) {
  Field field = Require(table, path, key,
                        "e.g. " + std::string(key) + " = " + Quoted(example));
  std::optional<std::string> arn = String(field);
  if (arn && !IsRamArn(*arn, resource)) {
    Error(At(*field.node),
          field.path + ": invalid ARN " + Quoted(*arn) +
              "; expected \"acs:ram::<account id>:" + std::string(resource) +
              "/<name>\", e.g. " + Quoted(example));
    return std::nullopt;
  }
  return arn;
}

void Loader::LoadEcsRamRoleCredentials(const toml::table& table,
                                       const std::string& path,
                                       CredentialsConfig& credentials) {
  if (auto role = NonEmptyString(
          Get(table, path, "role_name"),
          "remove the key to ask the metadata service for the role")) {
    credentials.role_name = std::move(*role);
  }
  if (auto disabled = Boolean(Get(table, path, "imds_v1_disabled"))) {
    credentials.imds_v1_disabled = *disabled;
  }
}

void Loader::LoadOidcRoleArnCredentials(const toml::table& table,
                                        const std::string& path,
                                        CredentialsConfig& credentials) {
  LoadRoleKeys(table, path, credentials);
  if (auto arn =
          LoadRamArn(table, path, "oidc_provider_arn", "oidc-provider",
                     "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123")) {
    credentials.oidc_provider_arn = std::move(*arn);
  }
  Field field =
      Require(table, path, "oidc_token_file",
              "e.g. oidc_token_file = "
              "\"/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token\"");
  if (auto file = NonEmptyString(field, "name the OIDC token's file")) {
    // Only readability is checked: the token is read again at every refresh
    // and never appears in a message.
    if (FileReadResult read = files_.ReadFile(*file); !read.ok) {
      Error(At(*field.node),
            field.path + ": cannot read " + Quoted(*file) + ": " + read.error);
    }
    credentials.oidc_token_file = std::move(*file);
  }
}

void Loader::LoadProfileCredentials(const toml::table& table,
                                    const std::string& path,
                                    CredentialsConfig& credentials) {
  const bool cli = credentials.type == "cli_profile";
  if (auto profile = NonEmptyString(
          Get(table, path, "profile"),
          cli ? "remove the key to use ALIBABA_CLOUD_PROFILE or the file's "
                "current profile"
              : "remove the key to use ALIBABA_CLOUD_PROFILE or "
                "[default]")) {
    credentials.profile = std::move(*profile);
  }
  if (auto file = NonEmptyString(
          Get(table, path, "file"),
          cli ? "remove the key to use ALIBABA_CLOUD_CONFIG_FILE or "
                "~/.aliyun/config.json"
              : "remove the key to use ALIBABA_CLOUD_CREDENTIALS_FILE or "
                "~/.alibabacloud/credentials")) {
    credentials.file = std::move(*file);
  }
}

void Loader::LoadUriCredentials(const toml::table& table,
                                const std::string& path,
                                CredentialsConfig& credentials) {
  Field field = Require(table, path, "uri",
                        "e.g. uri = \"http://127.0.0.1:8080/credentials\"");
  if (auto uri = String(field)) {
    // The URL is not quoted back: it may carry a token.
    if (IsHttpUrl(*uri)) {
      credentials.uri = std::move(*uri);
    } else {
      Error(At(*field.node),
            field.path +
                ": must be an http:// or https:// URL with a host, without "
                "spaces, e.g. \"http://127.0.0.1:8080/credentials\"");
    }
  }
}

std::optional<aliyun::Endpoint> Loader::LoadEndpointOverride(
    const Field& field) {
  std::optional<std::string> url = String(field);
  if (!url) return std::nullopt;
  std::string error;
  std::optional<aliyun::Endpoint> endpoint =
      aliyun::ParseEndpoint(*url, &error);
  if (!endpoint) Error(At(*field.node), field.path + ": " + error);
  return endpoint;
}

void Loader::CheckSourceAccounts() {
  std::vector<std::string_view> names;
  for (const auto& [name, line] : account_lines_) names.push_back(name);
  // Account name -> the account it names, for the first account of a name.
  std::map<std::string, std::string> sources;
  for (const SourceReference& reference : source_references_) {
    if (!account_lines_.contains(reference.source)) {
      std::string message =
          reference.path + ": no account named " + Quoted(reference.source);
      std::string nearest = NearestWord(reference.source, names);
      if (!nearest.empty() && nearest != reference.account) {
        message += "; did you mean " + Quoted(nearest) + "?";
      }
      message += " (defined accounts: " + QuotedList(names) + ")";
      Error(reference.position, std::move(message));
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
    Error(reference->position,
          reference->path + ": source accounts form a cycle: " + cycle +
              "; one of these accounts needs credentials of its own");
  }
}

std::optional<std::string> Loader::LoadSecret(const toml::table& table,
                                              const std::string& path,
                                              const SecretKey& key) {
  struct Spelling {
    std::string key;
    SecretOrigin origin;
    const toml::node* node;
  };
  std::vector<Spelling> present;
  for (auto [suffix, origin] : {std::pair{"", SecretOrigin::kLiteral},
                                std::pair{"_env", SecretOrigin::kEnvironment},
                                std::pair{"_file", SecretOrigin::kFile}}) {
    std::string name = std::string(key.name) + suffix;
    if (const toml::node* node = table.get(name)) {
      present.push_back({std::move(name), origin, node});
    }
  }
  std::string name(key.name);
  std::string choices = name + ", " + name + "_env or " + name + "_file";

  if (present.empty()) {
    if (key.required) {
      Error(At(table), Join(path, name) +
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
      Error(At(*present[i].node),
            Join(path, present[i].key) + ": conflicts with " + present[0].key +
                " at line " +
                std::to_string(present[0].node->source().begin.line) +
                "; set only one of " + choices);
    }
    return std::nullopt;
  }

  const Spelling& spelling = present[0];
  Field field{spelling.node, Join(path, spelling.key)};
  std::optional<std::string> reference = String(field);
  if (!reference) return std::nullopt;
  SecretLookup lookup =
      ResolveSecret(spelling.origin, *reference, env_, files_);
  if (!lookup.value) {
    Error(At(*spelling.node), field.path + ": " + lookup.error);
    return std::nullopt;
  }
  if (spelling.origin == SecretOrigin::kLiteral && key.secret &&
      ConfigReadableByOthers()) {
    Warning(At(*spelling.node),
            field.path +
                ": a secret is written in a configuration file that other "
                "users can read; run chmod 600 " +
                path_ + ", or use " + name + "_env or " + name +
                "_file instead");
  }
  return lookup.value;
}

void Loader::LoadTask(const toml::table& table, const std::string& path) {
  CheckKeys(table, path, kTaskKeys);
  TaskConfig task;
  task.position = At(table);

  std::vector<std::string_view> names;
  for (const auto& [name, line] : account_lines_) names.push_back(name);
  std::string defined;
  if (!names.empty()) {
    defined = "defined accounts: " + QuotedList(names);
  } else if (config_.accounts.empty()) {
    defined = "no [[account]] is defined";
  } else {
    defined = "no [[account]] has a valid name";
  }

  Field field = Require(table, path, "account",
                        names.empty() ? defined : "name one of the " + defined);
  std::optional<std::string> account = String(field);
  if (account && !account_lines_.contains(*account)) {
    std::string message = field.path + ": no account named " + Quoted(*account);
    std::string nearest = NearestWord(*account, names);
    if (!nearest.empty()) message += "; did you mean " + Quoted(nearest) + "?";
    message += " (" + defined + ")";
    Error(At(*field.node), std::move(message));
    account.reset();
  }

  std::optional<int64_t> export_id = PositiveInteger(
      Require(table, path, "export_id",
              "set the id of the export task, e.g. export_id = 131231"));
  field = Get(table, path, "rd_account_id");
  std::optional<int64_t> rd_account_id = PositiveInteger(field);
  bool rd_ok = field.node == nullptr || rd_account_id.has_value();

  field = Get(table, path, "name");
  std::optional<std::string> name = String(field);
  if (name && name->empty()) {
    Error(At(*field.node),
          field.path +
              ": must not be empty; remove the key to use the export id");
  } else if (std::string problem = name ? UnprintableTextProblem(*name) : "";
             !problem.empty()) {
    Error(At(*field.node),
          field.path + ": " + problem +
              "; the name becomes the task label: write it without control "
              "characters");
    name.reset();
  }

  task.account = account.value_or("");
  task.export_id = export_id.value_or(0);
  task.rd_account_id = rd_account_id;
  task.name = name ? *name : std::to_string(task.export_id);

  if (account && export_id && rd_ok) {
    size_t index = config_.tasks.size();
    auto [it, inserted] =
        task_lines_.emplace(std::tuple{*account, rd_account_id, *export_id},
                            std::pair{index, task.position.line});
    if (!inserted) {
      std::string message = path + ": duplicate task; task[" +
                            std::to_string(it->second.first + 1) +
                            "] at line " + std::to_string(it->second.second) +
                            " already polls account " + Quoted(*account) +
                            ", export_id " + std::to_string(*export_id);
      if (rd_account_id) {
        message += ", rd_account_id " + std::to_string(*rd_account_id);
      }
      Error(task.position, std::move(message));
    }
  }
  config_.tasks.push_back(std::move(task));
}

LoadResult Loader::Load(std::string_view text) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(path_));
  } catch (const toml::parse_error& error) {
    std::string description(error.description());
    constexpr std::string_view kPrefix = "Error while ";
    if (StartsWith(description, kPrefix)) {
      description = "invalid TOML while " + description.substr(kPrefix.size());
    } else {
      description = "invalid TOML: " + description;
    }
    Error(At(error.source()),
          RedactParseError(std::move(description),
                           LineOf(text, error.source().begin.line)));
    return {std::nullopt, std::move(diagnostics_)};
  }

  CheckKeys(root, "", kTopLevelKeys);
  LoadExporter(root);

  auto is_absent_or_empty = [&](std::string_view key) {
    const toml::node* node = root.get(key);
    return node == nullptr || (node->is_array() && node->as_array()->empty());
  };
  auto accounts = TableArray(Get(root, "", "account"));
  for (const auto& [table, path] : accounts) LoadAccount(*table, path);
  CheckSourceAccounts();
  if (is_absent_or_empty("account")) {
    Error({path_, 1, 1},
          "no [[account]] is defined; add at least one [[account]] table with "
          "a name, a region and credentials");
  }

  auto tasks = TableArray(Get(root, "", "task"));
  for (const auto& [table, path] : tasks) LoadTask(*table, path);
  if (is_absent_or_empty("task")) {
    Warning({path_, 1, 1},
            "no [[task]] is defined; the exporter has nothing to poll");
  }

  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.position.line, a.position.column) <
                            std::tie(b.position.line, b.position.column);
                   });
  LoadResult result;
  if (!has_errors_) result.config = std::move(config_);
  result.diagnostics = std::move(diagnostics_);
  return result;
}

}  // namespace

std::string Diagnostic::ToString() const {
  std::string out = position.file;
  if (position.line > 0) {
    out += ":" + std::to_string(position.line) + ":" +
           std::to_string(position.column);
  }
  out += ": ";
  if (severity == Severity::kWarning) out += "warning: ";
  out += message;
  return out;
}

LoadResult ParseConfig(std::string_view toml_text, const std::string& path,
                       const Environment& env, const FileSystem& files) {
  return Loader(path, env, files).Load(toml_text);
}

LoadResult LoadConfigFile(const std::string& path, const Environment& env,
                          const FileSystem& files) {
  FileReadResult read = files.ReadFile(path);
  if (!read.ok) {
    LoadResult result;
    result.diagnostics.push_back({Diagnostic::Severity::kError,
                                  {path, 0, 0},
                                  "cannot read: " + read.error});
    return result;
  }
  return ParseConfig(read.content, path, env, files);
}

}  // namespace sas::config
