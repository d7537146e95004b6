#include "simulator/scenario.h"

#include <toml++/toml.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "util/strings.h"

namespace sas::simulator {
namespace {

// Thrown inside this file only; ParseScenario turns it into *error.
struct ScenarioError {
  std::string message;
};

constexpr std::string_view kRootKeys[] = {"simulator", "export",   "sts",
                                          "role",      "metadata", "access"};
constexpr std::string_view kSimulatorKeys[] = {"seed"};
constexpr std::string_view kStsKeys[] = {"credential_lifetime"};
constexpr std::string_view kRoleKeys[] = {
    "arn",         "max_duration",      "trusted_principals",
    "external_id", "oidc_provider_arn", "oidc_tokens"};
constexpr std::string_view kMetadataKeys[] = {
    "role_name", "role_arn", "credential_lifetime", "require_token"};
constexpr std::string_view kAccessKeys[] = {"principal", "rd_account_ids",
                                            "allow_sas"};

constexpr Millis kMinRoleDuration{15 * 60'000};
constexpr Millis kMaxRoleDuration{12 * 3'600'000};
// Longer waits would only stall tests, and the server's timed waits must not
// overflow the steady clock.
constexpr Millis kMaxRetryAfter{24 * 3'600'000};
constexpr Millis kMaxLatency{10 * 60'000};

bool IsArnNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}
constexpr std::string_view kExportKeys[] = {"id",
                                            "file_name",
                                            "total_count",
                                            "init_duration",
                                            "duration",
                                            "stuck_at",
                                            "stuck_in_init",
                                            "final_status",
                                            "error_code",
                                            "error_status",
                                            "error_message",
                                            "error_rate",
                                            "throttle_rate",
                                            "retry_after",
                                            "latency",
                                            "rd_account_id",
                                            "non_json_rate"};

class Parser {
 public:
  explicit Parser(std::string_view source_name) : source_name_(source_name) {}

  [[noreturn]] void Fail(const toml::source_region& where,
                         const std::string& what) const {
    throw ScenarioError{source_name_ + ":" + std::to_string(where.begin.line) +
                        ":" + std::to_string(where.begin.column) + ": " + what};
  }

  // Rejects keys not in `allowed`, suggesting the nearest one.
  template <size_t N>
  void CheckKeys(const toml::table& table, const std::string_view (&allowed)[N],
                 std::string_view where) const {
    std::vector<std::string_view> candidates(allowed, allowed + N);
    for (auto&& [key, node] : table) {
      if (std::find(candidates.begin(), candidates.end(), key.str()) !=
          candidates.end()) {
        continue;
      }
      std::string message = "unknown key \"" + std::string(key.str()) +
                            "\" in " + std::string(where);
      std::string nearest = NearestWord(key.str(), candidates);
      if (!nearest.empty()) message += "; did you mean \"" + nearest + "\"?";
      Fail(key.source(), message);
    }
  }

  static std::string TypeName(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a float";
      case toml::node_type::boolean:
        return "a boolean";
      default:
        return "a date/time";
    }
  }

  [[noreturn]] void WrongType(std::string_view key, const toml::node& node,
                              std::string_view expected) const {
    Fail(node.source(), "\"" + std::string(key) + "\" must be " +
                            std::string(expected) + ", not " + TypeName(node));
  }

  std::optional<int64_t> Integer(const toml::table& table, std::string_view key,
                                 int64_t min, int64_t max) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_integer()) WrongType(key, *node, "an integer");
    int64_t value = node->as_integer()->get();
    if (value < min || value > max) {
      Fail(node->source(), "\"" + std::string(key) + "\" must be between " +
                               std::to_string(min) + " and " +
                               std::to_string(max) + ", not " +
                               std::to_string(value));
    }
    return value;
  }

  std::optional<std::string> String(const toml::table& table,
                                    std::string_view key,
                                    bool allow_empty = false) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) WrongType(key, *node, "a string");
    std::string value = node->as_string()->get();
    if (value.empty() && !allow_empty) {
      Fail(node->source(), "\"" + std::string(key) + "\" must not be empty");
    }
    return value;
  }

  std::optional<bool> Bool(const toml::table& table,
                           std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_boolean()) WrongType(key, *node, "a boolean");
    return node->as_boolean()->get();
  }

  std::optional<Millis> Duration(const toml::table& table,
                                 std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      WrongType(key, *node, "a duration string such as \"30s\"");
    }
    std::string text = node->as_string()->get();
    std::optional<Millis> value = ParseDuration(text);
    if (!value) {
      Fail(node->source(),
           "\"" + std::string(key) + "\": bad duration \"" + text +
               "\" (use <number><unit> groups with units ms, s, m, h, e.g. "
               "\"1m30s\")");
    }
    return value;
  }

  // A duration of at most max.
  std::optional<Millis> Duration(const toml::table& table, std::string_view key,
                                 Millis max) const {
    std::optional<Millis> value = Duration(table, key);
    if (value && *value > max) {
      Fail(table.get(key)->source(),
           "\"" + std::string(key) + "\" must be at most " +
               FormatDuration(max) + ", not " + FormatDuration(*value));
    }
    return value;
  }

  // A duration of whole seconds in [min, max].
  std::optional<Millis> Duration(const toml::table& table, std::string_view key,
                                 Millis min, Millis max) const {
    std::optional<Millis> value = Duration(table, key);
    if (!value) return value;
    const toml::source_region& where = table.get(key)->source();
    if (*value < min || *value > max) {
      Fail(where, "\"" + std::string(key) + "\" must be between " +
                      FormatDuration(min) + " and " + FormatDuration(max) +
                      ", not " + FormatDuration(*value));
    }
    if (value->count() % 1000 != 0) {
      Fail(where, "\"" + std::string(key) + "\" must be whole seconds, not " +
                      FormatDuration(*value));
    }
    return value;
  }

  // The table under `key`, or nullptr when absent.
  const toml::table* Table(const toml::table& parent,
                           std::string_view key) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) WrongType(key, *node, "a table");
    return node->as_table();
  }

  // The tables of `[[key]]`; empty when absent.
  std::vector<const toml::table*> Tables(const toml::table& parent,
                                         std::string_view key) const {
    std::vector<const toml::table*> tables;
    const toml::node* node = parent.get(key);
    if (node == nullptr) return tables;
    if (!node->is_array_of_tables()) {
      WrongType(key, *node,
                "an array of tables ([[" + std::string(key) + "]])");
    }
    for (const toml::node& element : *node->as_array()) {
      tables.push_back(element.as_table());
    }
    return tables;
  }

  // An array of non-empty strings, each with its position.
  std::optional<std::vector<std::pair<std::string, toml::source_region>>>
  Strings(const toml::table& table, std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_array()) WrongType(key, *node, "an array of strings");
    std::vector<std::pair<std::string, toml::source_region>> values;
    for (const toml::node& element : *node->as_array()) {
      if (!element.is_string()) {
        WrongType(std::string(key) + "[]", element, "a string");
      }
      std::string value = element.as_string()->get();
      if (value.empty()) {
        Fail(element.source(),
             "\"" + std::string(key) + "\" must not contain empty strings");
      }
      values.emplace_back(std::move(value), element.source());
    }
    return values;
  }

  // An array of integers in [min, max].
  std::optional<std::vector<int64_t>> Integers(const toml::table& table,
                                               std::string_view key,
                                               int64_t min) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_array()) WrongType(key, *node, "an array of integers");
    std::vector<int64_t> values;
    for (const toml::node& element : *node->as_array()) {
      if (!element.is_integer()) {
        WrongType(std::string(key) + "[]", element, "an integer");
      }
      int64_t value = element.as_integer()->get();
      if (value < min) {
        Fail(element.source(),
             "\"" + std::string(key) + "\" values must be at least " +
                 std::to_string(min) + ", not " + std::to_string(value));
      }
      values.push_back(value);
    }
    return values;
  }

  // Fails unless `text` is a RAM ARN of `kind`.
  void CheckArn(const std::string& text, std::string_view kind,
                std::string_view key, const toml::source_region& where) const {
    if (!ParseRamArn(text, kind)) {
      Fail(where, "\"" + std::string(key) + "\" must look like \"acs:ram::" +
                      "<account id>:" + std::string(kind) +
                      "/<name>\" (name: 1 to 64 of A-Z a-z 0-9 . _ -), not \"" +
                      text + "\"");
    }
  }

  // Fails if `principal` looks like an ARN but is not a scenario role.
  void CheckPrincipal(const std::string& principal, std::string_view key,
                      const toml::source_region& where) const {
    if (!StartsWith(principal, "acs:")) return;
    CheckArn(principal, "role", key, where);
    if (!role_arns_.contains(principal)) {
      Fail(where, "\"" + std::string(key) + "\": \"" + principal +
                      "\" is not the arn of a [[role]] in this scenario");
    }
  }

  // A fraction in [0, 1]; integers 0 and 1 are accepted too.
  std::optional<double> Rate(const toml::table& table,
                             std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    double value;
    if (node->is_floating_point()) {
      value = node->as_floating_point()->get();
    } else if (node->is_integer()) {
      value = static_cast<double>(node->as_integer()->get());
    } else {
      WrongType(key, *node, "a number between 0 and 1");
    }
    if (!(value >= 0.0 && value <= 1.0)) {
      Fail(node->source(),
           "\"" + std::string(key) + "\" must be between 0 and 1");
    }
    return value;
  }

  ExportSpec Export(const toml::table& table) const {
    CheckKeys(table, kExportKeys, "[[export]]");
    ExportSpec spec;
    std::optional<int64_t> id =
        Integer(table, "id", 1, std::numeric_limits<int64_t>::max());
    if (!id) Fail(table.source(), "[[export]] needs an \"id\"");
    spec.id = *id;
    spec.file_name = String(table, "file_name")
                         .value_or("export_" + std::to_string(spec.id));
    spec.total_count =
        Integer(table, "total_count", 0, std::numeric_limits<int32_t>::max())
            .value_or(spec.total_count);
    spec.init_duration =
        Duration(table, "init_duration").value_or(spec.init_duration);
    spec.duration = Duration(table, "duration").value_or(spec.duration);
    if (std::optional<int64_t> stuck = Integer(table, "stuck_at", 0, 100)) {
      spec.stuck_at = static_cast<int>(*stuck);
    }
    spec.stuck_in_init = Bool(table, "stuck_in_init").value_or(false);
    spec.final_status = String(table, "final_status");
    spec.error_code = String(table, "error_code").value_or("");
    spec.error_status = static_cast<int>(
        Integer(table, "error_status", 400, 599).value_or(spec.error_status));
    spec.error_message =
        String(table, "error_message").value_or(spec.error_code);
    spec.error_rate = Rate(table, "error_rate").value_or(spec.error_rate);
    if (spec.error_code.empty()) {
      for (std::string_view key :
           {"error_status", "error_message", "error_rate"}) {
        if (const toml::node* node = table.get(key)) {
          Fail(node->source(), "\"" + std::string(key) +
                                   "\" has no effect without \"error_code\"");
        }
      }
    }
    spec.throttle_rate =
        Rate(table, "throttle_rate").value_or(spec.throttle_rate);
    spec.retry_after = Duration(table, "retry_after", kMaxRetryAfter)
                           .value_or(spec.retry_after);
    spec.latency =
        Duration(table, "latency", kMaxLatency).value_or(spec.latency);
    spec.rd_account_id =
        Integer(table, "rd_account_id", 1, std::numeric_limits<int64_t>::max());
    spec.non_json_rate =
        Rate(table, "non_json_rate").value_or(spec.non_json_rate);
    return spec;
  }

  RoleSpec Role(const toml::table& table) const {
    CheckKeys(table, kRoleKeys, "[[role]]");
    RoleSpec role;
    role.arn = *String(table, "arn");  // checked by CollectRoleArns
    role.parsed = *ParseRamArn(role.arn, "role");
    role.max_duration =
        Duration(table, "max_duration", kMinRoleDuration, kMaxRoleDuration)
            .value_or(role.max_duration);
    if (auto principals = Strings(table, "trusted_principals")) {
      for (auto& [principal, where] : *principals) {
        CheckPrincipal(principal, "trusted_principals", where);
        role.trusted_principals.push_back(std::move(principal));
      }
    }
    role.external_id = String(table, "external_id");
    role.oidc_provider_arn = String(table, "oidc_provider_arn");
    if (role.oidc_provider_arn) {
      CheckArn(*role.oidc_provider_arn, "oidc-provider", "oidc_provider_arn",
               table.get("oidc_provider_arn")->source());
    }
    if (auto tokens = Strings(table, "oidc_tokens")) {
      if (!role.oidc_provider_arn) {
        Fail(table.get("oidc_tokens")->source(),
             "\"oidc_tokens\" has no effect without \"oidc_provider_arn\"");
      }
      for (auto& [token, where] : *tokens) {
        role.oidc_tokens.push_back(std::move(token));
      }
    }
    return role;
  }

  // First pass over [[role]]: every arn present, well-formed and unique, so
  // that principals may name roles defined further down.
  void CollectRoleArns(const std::vector<const toml::table*>& tables) {
    std::map<std::string, toml::source_region> seen;
    for (const toml::table* table : tables) {
      std::optional<std::string> arn = String(*table, "arn");
      if (!arn) Fail(table->source(), "[[role]] needs an \"arn\"");
      const toml::source_region& where = table->get("arn")->source();
      CheckArn(*arn, "role", "arn", where);
      auto [it, inserted] = seen.emplace(*arn, where);
      if (!inserted) {
        Fail(where, "duplicate role \"" + *arn + "\" (first defined at line " +
                        std::to_string(it->second.begin.line) + ")");
      }
      role_arns_.insert(*arn);
    }
  }

  MetadataSpec Metadata(const toml::table& table) const {
    CheckKeys(table, kMetadataKeys, "[metadata]");
    MetadataSpec metadata;
    std::optional<std::string> name = String(table, "role_name");
    if (!name) Fail(table.source(), "[metadata] needs a \"role_name\"");
    if (name->find('/') != std::string::npos) {
      Fail(table.get("role_name")->source(),
           "\"role_name\" must not contain '/'");
    }
    metadata.role_name = *name;
    std::optional<std::string> arn = String(table, "role_arn");
    if (!arn) Fail(table.source(), "[metadata] needs a \"role_arn\"");
    const toml::source_region& where = table.get("role_arn")->source();
    CheckArn(*arn, "role", "role_arn", where);
    CheckPrincipal(*arn, "role_arn", where);
    metadata.role_arn = *arn;
    metadata.credential_lifetime =
        Duration(table, "credential_lifetime", Millis(1000), kMaxLifetime)
            .value_or(metadata.credential_lifetime);
    metadata.require_token = Bool(table, "require_token").value_or(false);
    return metadata;
  }

  AccessSpec Access(const toml::table& table) const {
    CheckKeys(table, kAccessKeys, "[[access]]");
    AccessSpec access;
    std::optional<std::string> principal = String(table, "principal");
    if (!principal) Fail(table.source(), "[[access]] needs a \"principal\"");
    CheckPrincipal(*principal, "principal", table.get("principal")->source());
    access.principal = *principal;
    access.rd_account_ids = Integers(table, "rd_account_ids", 1);
    access.allow_sas = Bool(table, "allow_sas").value_or(true);
    return access;
  }

  Scenario Parse(const toml::table& root) {
    CheckKeys(root, kRootKeys, "the top level");
    Scenario scenario;
    std::vector<const toml::table*> role_tables = Tables(root, "role");
    CollectRoleArns(role_tables);
    for (const toml::table* table : role_tables) {
      scenario.roles.push_back(Role(*table));
    }
    if (const toml::table* sts = Table(root, "sts")) {
      CheckKeys(*sts, kStsKeys, "[sts]");
      scenario.sts_credential_lifetime =
          Duration(*sts, "credential_lifetime", Millis(1000), kMaxLifetime);
    }
    if (const toml::table* metadata = Table(root, "metadata")) {
      scenario.metadata = Metadata(*metadata);
    }
    std::map<std::string, toml::source_region> principals;
    for (const toml::table* table : Tables(root, "access")) {
      AccessSpec access = Access(*table);
      const toml::source_region& where = table->get("principal")->source();
      auto [it, inserted] = principals.emplace(access.principal, where);
      if (!inserted) {
        Fail(where, "duplicate [[access]] principal \"" + access.principal +
                        "\" (first defined at line " +
                        std::to_string(it->second.begin.line) + ")");
      }
      scenario.access.push_back(std::move(access));
    }
    if (const toml::node* node = root.get("simulator")) {
      if (!node->is_table()) WrongType("simulator", *node, "a table");
      const toml::table& simulator = *node->as_table();
      CheckKeys(simulator, kSimulatorKeys, "[simulator]");
      if (std::optional<int64_t> seed = Integer(
              simulator, "seed", 0, std::numeric_limits<int64_t>::max())) {
        scenario.seed = static_cast<uint64_t>(*seed);
      }
    }
    if (const toml::node* node = root.get("export")) {
      if (!node->is_array_of_tables()) {
        WrongType("export", *node, "an array of tables ([[export]])");
      }
      std::map<int64_t, toml::source_region> seen;
      for (const toml::node& element : *node->as_array()) {
        const toml::table& table = *element.as_table();
        ExportSpec spec = Export(table);
        const toml::source_region& where = table.get("id")->source();
        auto [it, inserted] = seen.emplace(spec.id, where);
        if (!inserted) {
          Fail(where, "duplicate export id " + std::to_string(spec.id) +
                          " (first defined at line " +
                          std::to_string(it->second.begin.line) + ")");
        }
        scenario.exports.push_back(std::move(spec));
      }
    }
    return scenario;
  }

 private:
  // Issued lifetimes are capped at a day, like any sensible STS.
  static constexpr Millis kMaxLifetime{24 * 3'600'000};

  std::string source_name_;
  // The arn of every [[role]], after CollectRoleArns.
  std::set<std::string> role_arns_;
};

}  // namespace

const ExportSpec* Scenario::Find(int64_t id) const {
  for (const ExportSpec& spec : exports) {
    if (spec.id == id) return &spec;
  }
  return nullptr;
}

std::optional<RamArn> ParseRamArn(std::string_view arn, std::string_view kind) {
  constexpr std::string_view kPrefix = "acs:ram::";
  if (!StartsWith(arn, kPrefix)) return std::nullopt;
  arn.remove_prefix(kPrefix.size());
  size_t colon = arn.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view account = arn.substr(0, colon);
  std::string_view rest = arn.substr(colon + 1);
  if (account.empty() || account.size() > 32 ||
      !std::all_of(account.begin(), account.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (!StartsWith(rest, kind) || rest.substr(kind.size()).empty() ||
      rest[kind.size()] != '/') {
    return std::nullopt;
  }
  std::string_view name = rest.substr(kind.size() + 1);
  if (name.empty() || name.size() > 64 ||
      !std::all_of(name.begin(), name.end(), IsArnNameChar)) {
    return std::nullopt;
  }
  return RamArn{std::string(account), std::string(name)};
}

const RoleSpec* Scenario::FindRole(std::string_view arn) const {
  for (const RoleSpec& role : roles) {
    if (role.arn == arn) return &role;
  }
  return nullptr;
}

const AccessSpec* Scenario::FindAccess(std::string_view principal) const {
  for (const AccessSpec& entry : access) {
    if (entry.principal == principal) return &entry;
  }
  return nullptr;
}

std::optional<Scenario> ParseScenario(std::string_view toml_text,
                                      std::string_view source_name,
                                      std::string* error) {
  Parser parser(source_name);
  try {
    toml::table root = toml::parse(toml_text, source_name);
    return parser.Parse(root);
  } catch (const toml::parse_error& e) {
    *error = std::string(source_name) + ":" +
             std::to_string(e.source().begin.line) + ":" +
             std::to_string(e.source().begin.column) + ": " +
             std::string(e.description());
  } catch (const ScenarioError& e) {
    *error = e.message;
  }
  return std::nullopt;
}

std::optional<Scenario> LoadScenarioFile(const FileSystem& files,
                                         const std::string& path,
                                         std::string* error) {
  FileReadResult read = files.ReadFile(path);
  if (!read.ok) {
    *error = path + ": cannot read scenario: " + read.error;
    return std::nullopt;
  }
  return ParseScenario(read.content, path, error);
}

ExportState StateAt(const ExportSpec& spec, Millis elapsed) {
  ExportState state;
  if (spec.stuck_in_init || elapsed < spec.init_duration) {
    state.status = "init";
    return state;
  }
  Millis running = elapsed - spec.init_duration;
  int64_t progress = 100;
  if (spec.duration.count() > 0 && running < spec.duration) {
    progress = running.count() * 100 / spec.duration.count();
  }
  bool ended = progress >= 100;
  if (spec.stuck_at && progress >= *spec.stuck_at) {
    progress = *spec.stuck_at;
    ended = spec.final_status.has_value();
  }
  state.progress = static_cast<int>(progress);
  state.current_count = spec.total_count * progress / 100;
  state.status = !ended ? "exporting" : spec.final_status.value_or("success");
  return state;
}

}  // namespace sas::simulator
