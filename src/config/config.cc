#include "config/config.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include "aliyun/endpoints.h"
#include "util/strings.h"
#include "util/toml_reader.h"

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
                                             "discover_backup_exports",
                                             "credentials"};
constexpr std::string_view kTaskKeys[] = {"account", "action", "export_id",
                                          "rd_account_id", "name"};

constexpr int kMaxConcurrency = 256;
constexpr int kMaxRetries = 10;
constexpr int64_t kMaxTasksLimit = 1'000'000;
constexpr double kMaxRequestsPerSecond = 10'000;
constexpr size_t kMaxAccountNameLength = 64;

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

// Walks the parsed document once, filling config_ and collecting every
// problem. Not thread-safe; one Loader per load.
class Loader {
 public:
  Loader(const std::string& path, const Environment& env,
         const FileSystem& files)
      : reader_(path, TomlReader::Wording::kKeyPath,
                [this](Diagnostic d) { diagnostics_.push_back(std::move(d)); }),
        files_(files),
        credentials_(reader_, env, files) {}

  LoadResult Load(std::string_view text);

 private:
  static TomlField Get(const toml::table& table, std::string_view path,
                       std::string_view key) {
    return TomlReader::Get(table, path, key);
  }
  // A positive integer (ids), or nullopt with the problem reported.
  std::optional<int64_t> PositiveInteger(const TomlField& field);

  void LoadExporter(const toml::table& root);
  void LoadAccount(const toml::table& table, const std::string& path);
  void LoadEndpoint(const toml::table& table, const std::string& path,
                    AccountConfig& account);
  void LoadTask(const toml::table& table, const std::string& path);

  std::vector<Diagnostic> diagnostics_;
  TomlReader reader_;
  const FileSystem& files_;
  CredentialsLoader credentials_;

  Config config_;
  // Valid account names -> the line of their first definition.
  std::map<std::string, int> account_lines_;
  // (account, rd_account_id, action, export_id) -> index and line of the
  // first task.
  std::map<std::tuple<std::string, std::optional<int64_t>, aliyun::ExportAction,
                      int64_t>,
           std::pair<size_t, int>>
      task_lines_;
};

std::optional<int64_t> Loader::PositiveInteger(const TomlField& field) {
  std::optional<int64_t> value = reader_.Integer(field);
  if (value && *value <= 0) {
    reader_.Error(reader_.At(*field.node),
                  field.path + ": must be a positive integer, got " +
                      std::to_string(*value));
    return std::nullopt;
  }
  return value;
}

void Loader::LoadExporter(const toml::table& root) {
  const toml::table* table = reader_.Table(Get(root, "", "exporter"));
  if (table == nullptr) return;
  const std::string path = "exporter";
  reader_.CheckKeys(*table, path, kExporterKeys);
  ExporterConfig& exporter = config_.exporter;

  if (auto d = reader_.Duration(Get(*table, path, "poll_interval"),
                                kMinPollInterval, kMaxPollInterval)) {
    exporter.poll_interval = *d;
  }
  if (auto n = reader_.Integer(Get(*table, path, "concurrency"), 1,
                               kMaxConcurrency)) {
    exporter.concurrency = static_cast<int>(*n);
  }
  for (auto [key, target] :
       {std::pair{"request_timeout", &exporter.request_timeout},
        std::pair{"connect_timeout", &exporter.connect_timeout}}) {
    TomlField field = Get(*table, path, key);
    if (auto d = reader_.Duration(field)) {
      if (*d <= Millis(0) || *d > kMaxTimeout) {
        reader_.Error(reader_.At(*field.node),
                      field.path + ": must be longer than 0s and at most " +
                          FormatDuration(kMaxTimeout) + ", got " +
                          Quoted(FormatDuration(*d)) + "; e.g. \"10s\"");
      } else {
        *target = *d;
      }
    }
  }
  if (auto n =
          reader_.Integer(Get(*table, path, "max_retries"), 0, kMaxRetries)) {
    exporter.max_retries = static_cast<int>(*n);
  }
  if (auto d = reader_.Duration(Get(*table, path, "finished_retention"),
                                Millis(0), kMaxFinishedRetention)) {
    exporter.finished_retention = *d;
  }
  if (auto patterns = reader_.StringArray(
          Get(*table, path, "task_files"),
          "an array of paths or glob patterns, e.g. "
          "[\"/etc/aliyun_sas_exporter/tasks.d/*.json\"]",
          "a non-empty string (a path or a glob pattern such as "
          "\"/etc/aliyun_sas_exporter/tasks.d/*.json\")")) {
    for (TomlString& pattern : *patterns) {
      exporter.task_files.push_back(std::move(pattern.value));
    }
  }
  if (auto n =
          reader_.Integer(Get(*table, path, "max_tasks"), 1, kMaxTasksLimit)) {
    exporter.max_tasks = static_cast<int>(*n);
  }
}

void Loader::LoadAccount(const toml::table& table, const std::string& path) {
  reader_.CheckKeys(table, path, kAccountKeys);
  AccountConfig account;
  account.position = reader_.At(table);

  TomlField field =
      reader_.Require(table, path, "name",
                      "give the account a unique name, e.g. name = \"prod\"");
  if (auto name = reader_.String(field)) {
    if (!IsValidAccountName(*name)) {
      reader_.Error(
          reader_.At(*field.node),
          field.path + ": invalid account name " + Quoted(*name) +
              "; use 1 to 64 characters of A-Z, a-z, 0-9, \"_\", \".\" and "
              "\"-\"");
    } else if (auto [it, inserted] =
                   account_lines_.emplace(*name, reader_.At(*field.node).line);
               !inserted) {
      reader_.Error(reader_.At(*field.node),
                    field.path + ": duplicate account name " + Quoted(*name) +
                        "; first defined at line " +
                        std::to_string(it->second));
    }
    account.name = *name;
  }

  field = Get(table, path, "network");
  if (auto network = reader_.String(field)) {
    if (*network == "public") {
      account.network = Network::kPublic;
    } else if (*network == "vpc") {
      account.network = Network::kVpc;
    } else {
      reader_.Error(reader_.At(*field.node),
                    field.path + ": invalid value " + Quoted(*network) +
                        "; expected \"public\" (the Internet "
                        "endpoints) or \"vpc\" (the VPC endpoints)");
    }
  }

  LoadEndpoint(table, path, account);

  field = Get(table, path, "signature_version");
  if (auto version = reader_.String(field)) {
    if (*version == "v3") {
      account.signature_version = aliyun::SignatureVersion::kV3;
    } else if (*version == "v1") {
      account.signature_version = aliyun::SignatureVersion::kV1;
    } else {
      reader_.Error(reader_.At(*field.node),
                    field.path + ": invalid value " + Quoted(*version) +
                        "; expected \"v3\" (ACS3-HMAC-SHA256) or "
                        "\"v1\" (HMAC-SHA1)");
    }
  }

  field = Get(table, path, "max_requests_per_second");
  if (auto rate = reader_.Number(field)) {
    if (!(*rate > 0 && *rate <= kMaxRequestsPerSecond)) {
      reader_.Error(reader_.At(*field.node),
                    field.path + ": must be greater than 0 and at most " +
                        FormatNumber(kMaxRequestsPerSecond) + ", got " +
                        FormatNumber(*rate));
    } else {
      account.max_requests_per_second = *rate;
    }
  }

  field = Get(table, path, "discover_backup_exports");
  if (auto discover = reader_.Boolean(field)) {
    account.discover_backup_exports = *discover;
  }

  field = Get(table, path, "ca_file");
  if (auto ca_file = reader_.String(field)) {
    if (ca_file->empty()) {
      reader_.Error(
          reader_.At(*field.node),
          field.path +
              ": must name a file; remove the key to trust only the system "
              "certificate store");
    } else if (FileReadResult read = files_.ReadFile(*ca_file); !read.ok) {
      reader_.Error(
          reader_.At(*field.node),
          field.path + ": cannot read " + Quoted(*ca_file) + ": " + read.error);
    }
    account.ca_file = *ca_file;
  }

  CredentialsLoader::Loaded credentials = credentials_.Load(
      Get(table, path, "credentials"), account.name, account.position);
  account.credentials = std::move(credentials.credentials);
  account.credential_endpoints = std::move(credentials.endpoints);
  account.credentials_position = credentials.position;
  config_.accounts.push_back(std::move(account));
}

void Loader::LoadEndpoint(const toml::table& table, const std::string& path,
                          AccountConfig& account) {
  TomlField region_field = Get(table, path, "region");
  TomlField endpoint_field = Get(table, path, "endpoint");
  if (region_field.node == nullptr && endpoint_field.node == nullptr) {
    reader_.Error(reader_.At(table),
                  path +
                      ": needs \"region\" or \"endpoint\"; e.g. region = "
                      "\"cn-hangzhou\" or endpoint = "
                      "\"https://tds.cn-shanghai.aliyuncs.com\"");
    return;
  }

  bool region_ok = false;
  if (auto region = reader_.String(region_field)) {
    if (aliyun::IsValidRegionId(*region)) {
      account.region = *region;
      region_ok = true;
    } else {
      reader_.Error(reader_.At(*region_field.node),
                    region_field.path + ": invalid region id " +
                        Quoted(*region) +
                        "; expected a region id such as \"cn-hangzhou\" or "
                        "\"ap-southeast-1\"");
    }
  }

  if (endpoint_field.node != nullptr) {
    if (auto url = reader_.String(endpoint_field)) {
      std::string error;
      if (auto endpoint = aliyun::ParseEndpoint(*url, &error)) {
        account.endpoint = *endpoint;
      } else {
        // ParseEndpoint's messages name the problem without quoting the
        // URL, which may carry a password.
        reader_.Error(reader_.At(*endpoint_field.node),
                      endpoint_field.path + ": " + error);
      }
    }
  } else if (region_ok) {
    account.endpoint.scheme = "https";
    account.endpoint.host = aliyun::SasHostForRegion(
        account.region, account.network == Network::kVpc);
    account.endpoint.port = 443;
    if (account.endpoint.host.empty()) {
      reader_.Error(reader_.At(*region_field.node),
                    region_field.path + ": region " + Quoted(account.region) +
                        " has no Security Center VPC endpoint; set network = "
                        "\"public\", or set endpoint to the host to use");
    }
  }
}

void Loader::LoadTask(const toml::table& table, const std::string& path) {
  reader_.CheckKeys(table, path, kTaskKeys);
  TaskConfig task;
  task.position = reader_.At(table);

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

  TomlField field =
      reader_.Require(table, path, "account",
                      names.empty() ? defined : "name one of the " + defined);
  std::optional<std::string> account = reader_.String(field);
  if (account && !account_lines_.contains(*account)) {
    std::string message = field.path + ": no account named " + Quoted(*account);
    std::string nearest = NearestWord(*account, names);
    if (!nearest.empty()) message += "; did you mean " + Quoted(nearest) + "?";
    message += " (" + defined + ")";
    reader_.Error(reader_.At(*field.node), std::move(message));
    account.reset();
  }

  field = Get(table, path, "action");
  std::optional<std::string> action_name = reader_.String(field);
  aliyun::ExportAction action = aliyun::kDefaultExportAction;
  // False when the key is there but names no action (already reported).
  bool action_ok = field.node == nullptr || action_name.has_value();
  if (action_name) {
    std::optional<aliyun::ExportAction> parsed =
        aliyun::ParseExportAction(*action_name);
    if (parsed && aliyun::IsDiscoveredAction(*parsed)) {
      action_ok = false;
      reader_.Error(
          reader_.At(*field.node),
          field.path + ": " + aliyun::DiscoveredActionRefusal(*parsed));
    } else if (parsed) {
      action = *parsed;
    } else {
      action_ok = false;
      std::vector<std::string_view> actions;
      for (aliyun::ExportAction a : aliyun::kExportActions) {
        actions.push_back(aliyun::ExportActionName(a));
      }
      std::string message =
          field.path + ": unknown action " + Quoted(*action_name);
      std::string nearest = NearestWord(*action_name, actions);
      if (!nearest.empty())
        message += "; did you mean " + Quoted(nearest) + "?";
      message += " (valid: " + aliyun::ExportActionNames() +
                 "; remove the key for DescribeExportInfo)";
      reader_.Error(reader_.At(*field.node), std::move(message));
    }
  }

  field =
      reader_.Require(table, path, "export_id",
                      "set the id of the export task, e.g. export_id = 131231");
  std::optional<int64_t> export_id = PositiveInteger(field);
  int64_t export_value = export_id.value_or(0);
  if (export_value > aliyun::MaxExportId(action)) {
    reader_.Error(reader_.At(*field.node),
                  field.path + ": " +
                      std::string(aliyun::ExportActionName(action)) +
                      " takes an ExportId of at most " +
                      std::to_string(aliyun::MaxExportId(action)) + ", not " +
                      std::to_string(export_value));
    export_value = 0;
  }
  field = Get(table, path, "rd_account_id");
  std::optional<int64_t> rd_account_id = PositiveInteger(field);
  bool rd_ok = field.node == nullptr || rd_account_id.has_value();
  if (rd_account_id && action_ok &&
      !aliyun::HasMemberAccountParameter(action)) {
    reader_.Error(reader_.At(*field.node),
                  field.path + ": " + aliyun::MemberAccountRefusal(action));
    rd_ok = false;
  }

  field = Get(table, path, "name");
  std::optional<std::string> name = reader_.String(field);
  if (name && name->empty()) {
    reader_.Error(
        reader_.At(*field.node),
        field.path +
            ": must not be empty; remove the key to use the export id");
  } else if (std::string problem = name ? UnprintableTextProblem(*name) : "";
             !problem.empty()) {
    reader_.Error(
        reader_.At(*field.node),
        field.path + ": " + problem +
            "; the name becomes the task label: write it without control "
            "characters");
    name.reset();
  }

  task.account = account.value_or("");
  task.action = action;
  task.export_id = export_value;
  task.rd_account_id = rd_account_id;
  task.name = name ? *name : std::to_string(task.export_id);

  if (account && export_value > 0 && rd_ok && action_ok) {
    size_t index = config_.tasks.size();
    auto [it, inserted] = task_lines_.emplace(
        std::tuple{*account, rd_account_id, task.action, task.export_id},
        std::pair{index, task.position.line});
    if (!inserted) {
      std::string message = path + ": duplicate task; task[" +
                            std::to_string(it->second.first + 1) +
                            "] at line " + std::to_string(it->second.second) +
                            " already polls account " + Quoted(*account) +
                            ", action " +
                            std::string(aliyun::ExportActionName(task.action)) +
                            ", export_id " + std::to_string(task.export_id);
      if (rd_account_id) {
        message += ", rd_account_id " + std::to_string(*rd_account_id);
      }
      reader_.Error(task.position, std::move(message));
    }
  }
  config_.tasks.push_back(std::move(task));
}

LoadResult Loader::Load(std::string_view text) {
  std::optional<toml::table> parsed = reader_.Parse(text);
  if (!parsed) return {std::nullopt, std::move(diagnostics_)};
  const toml::table& root = *parsed;

  reader_.CheckKeys(root, "", kTopLevelKeys);
  LoadExporter(root);

  auto is_absent_or_empty = [&](std::string_view key) {
    const toml::node* node = root.get(key);
    return node == nullptr || (node->is_array() && node->as_array()->empty());
  };
  for (const auto& [table, path] :
       reader_.TableArray(Get(root, "", "account"))) {
    LoadAccount(*table, path);
  }
  credentials_.CheckSourceAccounts(account_lines_);
  if (is_absent_or_empty("account")) {
    reader_.Error(
        {reader_.file(), 1, 1},
        "no [[account]] is defined; add at least one [[account]] table with "
        "a name, a region and credentials");
  }

  for (const auto& [table, path] : reader_.TableArray(Get(root, "", "task"))) {
    LoadTask(*table, path);
  }
  bool other_sources =
      !config_.exporter.task_files.empty() ||
      std::any_of(config_.accounts.begin(), config_.accounts.end(),
                  [](const AccountConfig& account) {
                    return account.discover_backup_exports;
                  });
  if (is_absent_or_empty("task") && !other_sources) {
    reader_.Warning({reader_.file(), 1, 1},
                    "no [[task]] is defined; the exporter has nothing to poll");
  }

  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.position.line, a.position.column) <
                            std::tie(b.position.line, b.position.column);
                   });
  LoadResult result;
  if (!reader_.has_errors()) result.config = std::move(config_);
  result.diagnostics = std::move(diagnostics_);
  return result;
}

}  // namespace

LoadResult ParseConfig(std::string_view toml_text, const std::string& path,
                       const Environment& env, const FileSystem& files) {
  return Loader(path, env, files).Load(toml_text);
}

LoadResult LoadConfigFile(const std::string& path, const Environment& env,
                          const FileSystem& files) {
  FileReadResult read = files.ReadFile(path);
  if (!read.ok) {
    // A named Diagnostic, not a braced temporary: GCC 12 at -O2 and above
    // warns falsely (-Wmaybe-uninitialized of the SourcePosition string) on
    // the latter.
    Diagnostic cannot_read;
    cannot_read.position.file = path;
    cannot_read.message = "cannot read: " + read.error;
    LoadResult result;
    result.diagnostics.push_back(std::move(cannot_read));
    return result;
  }
  return ParseConfig(read.content, path, env, files);
}

}  // namespace sas::config
