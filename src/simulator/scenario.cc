#include "simulator/scenario.h"

#include <toml++/toml.h>

#include <algorithm>
#include <limits>
#include <map>

#include "util/strings.h"

namespace sas::simulator {
namespace {

// Thrown inside this file only; ParseScenario turns it into *error.
struct ScenarioError {
  std::string message;
};

constexpr std::string_view kRootKeys[] = {"simulator", "export"};
constexpr std::string_view kSimulatorKeys[] = {"seed"};
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
    spec.retry_after =
        Duration(table, "retry_after").value_or(spec.retry_after);
    spec.latency = Duration(table, "latency").value_or(spec.latency);
    spec.rd_account_id =
        Integer(table, "rd_account_id", 1, std::numeric_limits<int64_t>::max());
    spec.non_json_rate =
        Rate(table, "non_json_rate").value_or(spec.non_json_rate);
    return spec;
  }

  Scenario Parse(const toml::table& root) const {
    CheckKeys(root, kRootKeys, "the top level");
    Scenario scenario;
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
  std::string source_name_;
};

}  // namespace

const ExportSpec* Scenario::Find(int64_t id) const {
  for (const ExportSpec& spec : exports) {
    if (spec.id == id) return &spec;
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
