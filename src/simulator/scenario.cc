#include "simulator/scenario.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "util/strings.h"
#include "util/toml_reader.h"

namespace sas::simulator {
namespace {

// Thrown inside this file only; ParseScenario turns it into *error.
struct ScenarioError {
  std::string message;
};

constexpr std::string_view kRootKeys[] = {"simulator", "export", "sts",  "role",
                                          "metadata",  "access", "fault"};
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
constexpr Millis kMaxRoleDuration{std::chrono::hours(12)};
// Longer waits would only stall tests, and the server's timed waits must not
// overflow the steady clock.
constexpr Millis kMaxRetryAfter{std::chrono::hours(24)};
constexpr Millis kMaxLatency{10 * 60'000};

constexpr std::string_view kExportKeys[] = {"id",
                                            "action",
                                            "sparse",
                                            "throttle_status",
                                            "throttle_code",
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
                                            "created_ago",
                                            "rd_account_id",
                                            "non_json_rate"};

bool IsArnNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// Reads a scenario through a TomlReader whose sink throws ScenarioError:
// the first problem ends the parse.
class Parser {
 public:
  explicit Parser(TomlReader& reader) : reader_(reader) {}

  Scenario Parse(const toml::table& root) {
    reader_.CheckKeys(root, "", kRootKeys, "the top level");
    Scenario scenario;
    auto role_tables = reader_.TableArray(Get(root, "role"));
    CollectRoleArns(role_tables);
    for (const auto& [table, path] : role_tables) {
      scenario.roles.push_back(Role(*table));
    }
    if (const toml::table* sts = reader_.Table(Get(root, "sts"))) {
      reader_.CheckKeys(*sts, "", kStsKeys, "[sts]");
      scenario.sts_credential_lifetime = WholeSeconds(
          Get(*sts, "credential_lifetime"), Millis(1000), kMaxLifetime);
    }
    if (const toml::table* metadata = reader_.Table(Get(root, "metadata"))) {
      scenario.metadata = Metadata(*metadata);
    }
    std::map<std::string, int> principals;
    for (const auto& [table, path] : reader_.TableArray(Get(root, "access"))) {
      AccessSpec access = Access(*table);
      FailIfDuplicate(
          principals, access.principal, reader_.At(*table->get("principal")),
          "duplicate [[access]] principal " + Quoted(access.principal));
      scenario.access.push_back(std::move(access));
    }
    if (const toml::table* simulator = reader_.Table(Get(root, "simulator"))) {
      reader_.CheckKeys(*simulator, "", kSimulatorKeys, "[simulator]");
      if (std::optional<int64_t> seed =
              reader_.Integer(Get(*simulator, "seed"), 0,
                              std::numeric_limits<int64_t>::max())) {
        scenario.seed = static_cast<uint64_t>(*seed);
      }
    }
    std::map<std::string, int> ids;
    for (const auto& [table, path] : reader_.TableArray(Get(root, "export"))) {
      ExportSpec spec = Export(*table);
      FailIfDuplicate(ids,
                      std::string(aliyun::ExportActionName(spec.action)) + "/" +
                          std::to_string(spec.id),
                      reader_.At(*table->get("id")),
                      "duplicate export id " + std::to_string(spec.id) +
                          " of " +
                          std::string(aliyun::ExportActionName(spec.action)));
      scenario.exports.push_back(std::move(spec));
    }
    for (const auto& [table, path] : reader_.TableArray(Get(root, "fault"))) {
      scenario.faults.push_back(Fault(*table));
    }
    return scenario;
  }

 private:
  // Issued lifetimes are capped at a day, like any sensible STS.
  static constexpr Millis kMaxLifetime{std::chrono::hours(24)};

  static TomlField Get(const toml::table& table, std::string_view key) {
    return TomlReader::Get(table, "", key);
  }

  [[noreturn]] static void Fail(const SourcePosition& where, std::string what) {
    throw ScenarioError{
        Diagnostic{Diagnostic::Severity::kError, where, std::move(what)}
            .ToString()};
  }

  // Fails when `key` is already in `seen` (a map to the line of its first
  // definition); records it otherwise.
  static void FailIfDuplicate(std::map<std::string, int>& seen,
                              const std::string& key,
                              const SourcePosition& where,
                              const std::string& what) {
    auto [it, inserted] = seen.emplace(key, where.line);
    if (!inserted) {
      Fail(where, what + " (first defined at line " +
                      std::to_string(it->second) + ")");
    }
  }

  // A duration of whole seconds in [min, max].
  std::optional<Millis> WholeSeconds(const TomlField& field, Millis min,
                                     Millis max) {
    std::optional<Millis> value = reader_.Duration(field, min, max);
    if (value && value->count() % 1000 != 0) {
      Fail(reader_.At(*field.node), reader_.Subject(field.path) +
                                        "must be whole seconds, not " +
                                        FormatDuration(*value));
    }
    return value;
  }

  // A fraction in [0, 1]; integers 0 and 1 are accepted too.
  std::optional<double> Rate(const toml::table& table, std::string_view key) {
    TomlField field = Get(table, key);
    std::optional<double> value =
        reader_.Number(field, "a number between 0 and 1");
    if (value && !(*value >= 0.0 && *value <= 1.0)) {
      Fail(reader_.At(*field.node),
           reader_.Subject(field.path) + "must be between 0 and 1");
    }
    return value;
  }

  // Fails unless `text` is a RAM ARN of `kind`.
  void CheckArn(const std::string& text, std::string_view kind,
                std::string_view key, const SourcePosition& where) const {
    if (!ParseRamArn(text, kind)) {
      Fail(where, reader_.Subject(key) + "must look like \"acs:ram::" +
                      "<account id>:" + std::string(kind) +
                      "/<name>\" (name: 1 to 64 of A-Z a-z 0-9 . _ -), not " +
                      Quoted(text));
    }
  }

  // Fails if `principal` looks like an ARN but is not a scenario role.
  void CheckPrincipal(const std::string& principal, std::string_view key,
                      const SourcePosition& where) const {
    if (!StartsWith(principal, "acs:")) return;
    CheckArn(principal, "role", key, where);
    if (!role_arns_.contains(principal)) {
      Fail(where, Quoted(key) + ": " + Quoted(principal) +
                      " is not the arn of a [[role]] in this scenario");
    }
  }

  // A required non-empty string; when the key is missing, fails at the
  // table with `missing` ("[[role]] needs an \"arn\"").
  std::string Required(const toml::table& table, std::string_view key,
                       std::string_view missing) {
    std::optional<std::string> value = reader_.NonEmptyString(Get(table, key));
    if (!value) Fail(reader_.At(table), std::string(missing));
    return *value;
  }

  ExportSpec Export(const toml::table& table) {
    reader_.CheckKeys(table, "", kExportKeys, "[[export]]");
    ExportSpec spec;
    std::optional<int64_t> id = reader_.Integer(
        Get(table, "id"), 1, std::numeric_limits<int64_t>::max());
    if (!id) Fail(reader_.At(table), "[[export]] needs an \"id\"");
    spec.id = *id;
    if (std::optional<std::string> action =
            reader_.NonEmptyString(Get(table, "action"))) {
      std::optional<aliyun::ExportAction> parsed =
          aliyun::ParseExportAction(*action);
      if (!parsed) {
        Fail(reader_.At(*table.get("action")),
             "unknown action " + Quoted(*action) +
                 " (valid: " + aliyun::ExportActionNames() + ")");
      }
      spec.action = *parsed;
    }
    spec.sparse = reader_.Boolean(Get(table, "sparse")).value_or(false);
    spec.file_name = reader_.NonEmptyString(Get(table, "file_name"))
                         .value_or("export_" + std::to_string(spec.id));
    spec.total_count = reader_
                           .Integer(Get(table, "total_count"), 0,
                                    std::numeric_limits<int32_t>::max())
                           .value_or(spec.total_count);
    spec.init_duration = reader_.Duration(Get(table, "init_duration"))
                             .value_or(spec.init_duration);
    spec.duration =
        reader_.Duration(Get(table, "duration")).value_or(spec.duration);
    if (std::optional<int64_t> stuck =
            reader_.Integer(Get(table, "stuck_at"), 0, 100)) {
      spec.stuck_at = static_cast<int>(*stuck);
    }
    spec.stuck_in_init =
        reader_.Boolean(Get(table, "stuck_in_init")).value_or(false);
    spec.final_status = reader_.NonEmptyString(Get(table, "final_status"));
    spec.error_code =
        reader_.NonEmptyString(Get(table, "error_code")).value_or("");
    spec.error_status =
        static_cast<int>(reader_.Integer(Get(table, "error_status"), 400, 599)
                             .value_or(spec.error_status));
    spec.error_message = reader_.NonEmptyString(Get(table, "error_message"))
                             .value_or(spec.error_code);
    spec.error_rate = Rate(table, "error_rate").value_or(spec.error_rate);
    if (spec.error_code.empty()) {
      for (std::string_view key :
           {"error_status", "error_message", "error_rate"}) {
        if (const toml::node* node = table.get(key)) {
          Fail(reader_.At(*node),
               Quoted(key) + " has no effect without \"error_code\"");
        }
      }
    }
    spec.throttle_rate =
        Rate(table, "throttle_rate").value_or(spec.throttle_rate);
    spec.throttle_status = static_cast<int>(
        reader_.Integer(Get(table, "throttle_status"), 400, 599)
            .value_or(spec.throttle_status));
    spec.throttle_code = reader_.NonEmptyString(Get(table, "throttle_code"))
                             .value_or(spec.throttle_code);
    spec.retry_after =
        reader_.Duration(Get(table, "retry_after"), Millis(0), kMaxRetryAfter)
            .value_or(spec.retry_after);
    spec.latency =
        reader_.Duration(Get(table, "latency"), Millis(0), kMaxLatency)
            .value_or(spec.latency);
    spec.created_ago = reader_
                           .Duration(Get(table, "created_ago"), Millis(0),
                                     Millis(std::chrono::hours(24 * 3650)))
                           .value_or(spec.created_ago);
    spec.rd_account_id = reader_.Integer(Get(table, "rd_account_id"), 1,
                                         std::numeric_limits<int64_t>::max());
    if (spec.rd_account_id && !aliyun::HasMemberAccountParameter(spec.action)) {
      Fail(reader_.At(*table.get("rd_account_id")),
           aliyun::MemberAccountRefusal(spec.action));
    }
    spec.non_json_rate =
        Rate(table, "non_json_rate").value_or(spec.non_json_rate);
    return spec;
  }

  // The table's values as text for ParseFault, each checked for its type.
  FaultSpec Fault(const toml::table& table) {
    reader_.CheckKeys(table, "", kFaultKeys, "[[fault]]");
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& [key, node] : table) {
      TomlField field = Get(table, key.str());
      std::optional<int64_t> number;
      std::optional<std::string> text;
      if (IsIntegerFaultKey(key.str())) {
        number = reader_.Integer(field);
      } else {
        text = reader_.String(field);
      }
      fields.emplace_back(std::string(key.str()),
                          number ? std::to_string(*number) : text.value_or(""));
    }
    FaultError error;
    std::optional<FaultSpec> fault = ParseFault(fields, &error);
    if (!fault) {
      const toml::node* node =
          error.key.empty() ? nullptr : table.get(error.key);
      Fail(node != nullptr ? reader_.At(*node) : reader_.At(table),
           error.message + " in [[fault]]");
    }
    return *fault;
  }

  RoleSpec Role(const toml::table& table) {
    reader_.CheckKeys(table, "", kRoleKeys, "[[role]]");
    RoleSpec role;
    role.arn = *reader_.String(Get(table, "arn"));  // see CollectRoleArns
    role.parsed = *ParseRamArn(role.arn, "role");
    role.max_duration = WholeSeconds(Get(table, "max_duration"),
                                     kMinRoleDuration, kMaxRoleDuration)
                            .value_or(role.max_duration);
    if (auto principals =
            reader_.StringArray(Get(table, "trusted_principals"))) {
      for (TomlString& principal : *principals) {
        CheckPrincipal(principal.value, "trusted_principals",
                       principal.position);
        role.trusted_principals.push_back(std::move(principal.value));
      }
    }
    role.external_id = reader_.NonEmptyString(Get(table, "external_id"));
    TomlField provider = Get(table, "oidc_provider_arn");
    role.oidc_provider_arn = reader_.NonEmptyString(provider);
    if (role.oidc_provider_arn) {
      CheckArn(*role.oidc_provider_arn, "oidc-provider", provider.path,
               reader_.At(*provider.node));
    }
    TomlField tokens_field = Get(table, "oidc_tokens");
    if (auto tokens = reader_.StringArray(tokens_field)) {
      if (!role.oidc_provider_arn) {
        Fail(reader_.At(*tokens_field.node),
             "\"oidc_tokens\" has no effect without \"oidc_provider_arn\"");
      }
      for (TomlString& token : *tokens) {
        role.oidc_tokens.push_back(std::move(token.value));
      }
    }
    return role;
  }

  // First pass over [[role]]: every arn present, well-formed and unique, so
  // that principals may name roles defined further down.
  void CollectRoleArns(
      const std::vector<std::pair<const toml::table*, std::string>>& tables) {
    std::map<std::string, int> seen;
    for (const auto& [table, path] : tables) {
      std::string arn = Required(*table, "arn", "[[role]] needs an \"arn\"");
      SourcePosition where = reader_.At(*table->get("arn"));
      CheckArn(arn, "role", "arn", where);
      FailIfDuplicate(seen, arn, where, "duplicate role " + Quoted(arn));
      role_arns_.insert(arn);
    }
  }

  MetadataSpec Metadata(const toml::table& table) {
    reader_.CheckKeys(table, "", kMetadataKeys, "[metadata]");
    MetadataSpec metadata;
    metadata.role_name =
        Required(table, "role_name", "[metadata] needs a \"role_name\"");
    if (metadata.role_name.find('/') != std::string::npos) {
      Fail(reader_.At(*table.get("role_name")),
           "\"role_name\" must not contain '/'");
    }
    metadata.role_arn =
        Required(table, "role_arn", "[metadata] needs a \"role_arn\"");
    SourcePosition where = reader_.At(*table.get("role_arn"));
    CheckArn(metadata.role_arn, "role", "role_arn", where);
    CheckPrincipal(metadata.role_arn, "role_arn", where);
    metadata.credential_lifetime =
        WholeSeconds(Get(table, "credential_lifetime"), Millis(1000),
                     kMaxLifetime)
            .value_or(metadata.credential_lifetime);
    metadata.require_token =
        reader_.Boolean(Get(table, "require_token")).value_or(false);
    return metadata;
  }

  AccessSpec Access(const toml::table& table) {
    reader_.CheckKeys(table, "", kAccessKeys, "[[access]]");
    AccessSpec access;
    access.principal =
        Required(table, "principal", "[[access]] needs a \"principal\"");
    CheckPrincipal(access.principal, "principal",
                   reader_.At(*table.get("principal")));
    access.rd_account_ids =
        reader_.IntegerArray(Get(table, "rd_account_ids"), 1);
    access.allow_sas = reader_.Boolean(Get(table, "allow_sas")).value_or(true);
    return access;
  }

  TomlReader& reader_;
  // The arn of every [[role]], after CollectRoleArns.
  std::set<std::string> role_arns_;
};

}  // namespace

const ExportSpec* Scenario::Find(int64_t id,
                                 aliyun::ExportAction action) const {
  for (const ExportSpec& spec : exports) {
    if (spec.id == id && spec.action == action) return &spec;
  }
  return nullptr;
}

std::string WireStatus(aliyun::ExportAction action, const std::string& status) {
  using aliyun::ExportAction;
  switch (action) {
    case ExportAction::kDescribeHcExportInfo:
      return status == "init" ? "exporting" : status;
    case ExportAction::kDescribeSuspEventExportInfo:
      return status == "init" ? "pending" : status;
    case ExportAction::kDescribeReportExport:
      if (status == "failed") return "-1";
      if (status == "init") return "0";
      if (status == "exporting") return "1";
      if (status == "success") return "2";
      return status;
    default:
      return status;
  }
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
  TomlReader reader(
      std::string(source_name), TomlReader::Wording::kQuotedKey,
      [](Diagnostic problem) { throw ScenarioError{problem.ToString()}; });
  try {
    std::optional<toml::table> root = reader.Parse(toml_text);
    if (root) return Parser(reader).Parse(*root);
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
