// Lints dashboards/aliyun-sas-exports.json with the rules of
// grafana/dashboard-linter (which cannot be installed here) and the project's
// own: every query names a metric the exporter exposes and filters by the
// dashboard's variables. Also checks the provisioning files.
//
// DashboardTest.* check the real dashboard; CheckerTest.* break a copy of it
// in one way each and make sure the matching check notices, so a check that
// silently stopped working fails too.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using Violations = std::vector<std::string>;

constexpr const char* kDashboardPath =
    SAS_SOURCE_DIR "/dashboards/aliyun-sas-exports.json";
constexpr const char* kDashboardProvisioningPath =
    SAS_SOURCE_DIR "/dashboards/provisioning/dashboards/aliyun-sas.yml";
constexpr const char* kDatasourceProvisioningPath =
    SAS_SOURCE_DIR "/dashboards/provisioning/datasources/prometheus.yml";

constexpr std::string_view kUid = "aliyun-sas-exports";
constexpr std::string_view kDatasourceRef = "${datasource}";
constexpr std::string_view kRateInterval = "$__rate_interval";

// Every series the exporter (and Prometheus, for `up`) exposes. A query naming
// anything else shows nothing, so renaming a metric must break this test.
const std::set<std::string, std::less<>> kKnownMetrics = {
    "aliyun_sas_export_progress_ratio",
    "aliyun_sas_export_current_entries",
    "aliyun_sas_export_total_entries",
    "aliyun_sas_export_status",
    "aliyun_sas_export_info",
    "aliyun_sas_export_up",
    "aliyun_sas_export_last_success_timestamp_seconds",
    "aliyun_sas_export_first_seen_timestamp_seconds",
    "aliyun_sas_export_last_progress_timestamp_seconds",
    "aliyun_sas_export_completed_timestamp_seconds",
    "aliyun_sas_api_requests_total",
    "aliyun_sas_api_request_errors_total",
    "aliyun_sas_api_request_duration_seconds_bucket",
    "aliyun_sas_credentials_expiry_timestamp_seconds",
    "aliyun_sas_credentials_refreshes_total",
    "aliyun_sas_credentials_refresh_errors_total",
    "aliyun_sas_exporter_build_info",
    "aliyun_sas_exporter_tasks",
    "aliyun_sas_poll_start_lag_seconds_bucket",
    "aliyun_sas_account_demanded_requests_per_second",
    "aliyun_sas_account_max_requests_per_second",
    "aliyun_sas_account_up",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
    "up",
};

// The functions a counter may be read through.
const std::set<std::string, std::less<>> kRateFunctions = {"rate", "irate",
                                                           "increase"};

// ---------------------------------------------------------------------------
// Files and JSON access.

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The dashboard, or nullopt with the parser's message in *error.
std::optional<json> ParseDashboard(const std::string& text,
                                   std::string* error) {
  try {
    json dashboard = json::parse(text);
    if (!dashboard.is_object()) {
      *error = "the top level is not a JSON object";
      return std::nullopt;
    }
    return dashboard;
  } catch (const json::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

std::string StringAt(const json& object, const std::string& key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool BoolAt(const json& object, const std::string& key) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

std::string Trim(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) {
    ++begin;
  }
  while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) {
    --end;
  }
  return std::string(s.substr(begin, end - begin));
}

std::string Join(const Violations& violations) {
  std::string out;
  for (const std::string& v : violations) out += "\n  " + v;
  return out;
}

// The uid a panel, target or variable takes its data source from: the `uid`
// of a {type, uid} reference, or a plain string (older dashboards).
std::string DatasourceOf(const json& object) {
  if (!object.is_object()) return "";
  auto it = object.find("datasource");
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  return StringAt(*it, "uid");
}

// ---------------------------------------------------------------------------
// Panels, targets and variables.

struct PanelRef {
  const json* panel;
  std::string name;  // e.g. `row "Exporter" > panel 18 "CPU"`
};

struct TargetRef {
  const json* target;
  std::string name;  // e.g. `panel 18 "CPU" target A`
};

bool IsRow(const json& panel) { return StringAt(panel, "type") == "row"; }

std::string Describe(const json& panel) {
  std::string name = IsRow(panel) ? "row" : "panel";
  if (panel.contains("id")) name += " " + panel["id"].dump();
  return name + " \"" + StringAt(panel, "title") + "\"";
}

// Rows keep their panels in their own `panels` while collapsed.
void CollectPanels(const json& panels, const std::string& prefix,
                   std::vector<PanelRef>& out) {
  if (!panels.is_array()) return;
  for (const json& panel : panels) {
    if (!panel.is_object()) continue;
    std::string name = prefix + Describe(panel);
    out.push_back({&panel, name});
    if (panel.contains("panels")) {
      CollectPanels(panel["panels"], name + " > ", out);
    }
  }
}

std::vector<PanelRef> AllPanels(const json& dashboard) {
  std::vector<PanelRef> out;
  if (dashboard.contains("panels")) {
    CollectPanels(dashboard["panels"], "", out);
  }
  return out;
}

std::vector<TargetRef> AllTargets(const json& dashboard) {
  std::vector<TargetRef> out;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (IsRow(*ref.panel) || !ref.panel->contains("targets")) continue;
    const json& targets = (*ref.panel)["targets"];
    if (!targets.is_array()) continue;
    for (const json& target : targets) {
      out.push_back(
          {&target, ref.name + " target " + StringAt(target, "refId")});
    }
  }
  return out;
}

std::vector<const json*> Variables(const json& dashboard) {
  std::vector<const json*> out;
  if (!dashboard.contains("templating")) return out;
  const json& templating = dashboard["templating"];
  if (!templating.is_object() || !templating.contains("list") ||
      !templating["list"].is_array()) {
    return out;
  }
  for (const json& variable : templating["list"]) out.push_back(&variable);
  return out;
}

const json* FindVariable(const json& dashboard, const std::string& name) {
  for (const json* variable : Variables(dashboard)) {
    if (StringAt(*variable, "name") == name) return variable;
  }
  return nullptr;
}

// The PromQL of a query variable: `query` is a string or {query, refId}.
std::vector<std::string> VariableQueries(const json& variable) {
  std::vector<std::string> out;
  if (variable.contains("query")) {
    const json& query = variable["query"];
    if (query.is_string()) out.push_back(query.get<std::string>());
    std::string nested = StringAt(query, "query");
    if (!nested.empty()) out.push_back(nested);
  }
  std::string definition = StringAt(variable, "definition");
  if (!definition.empty()) out.push_back(definition);
  return out;
}

// ---------------------------------------------------------------------------
// A small PromQL scanner: enough to find metric names, the function a
// selector sits in and the range of each rate().

constexpr size_t kNpos = std::string::npos;

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

// The expression with the contents of string literals blanked, so label
// values and regexes are never taken for names or parentheses. Every offset
// stays the same.
std::string BlankStrings(std::string_view expr) {
  std::string out(expr);
  char quote = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (quote == 0) {
      if (c == '"' || c == '\'' || c == '`') quote = c;
    } else if (c == quote) {
      quote = 0;
    } else if (c == '\\' && quote != '`' && i + 1 < out.size()) {
      out[i] = ' ';
      out[++i] = ' ';
    } else {
      out[i] = ' ';
    }
  }
  return out;
}

size_t NextNonSpace(const std::string& s, size_t pos) {
  while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) {
    ++pos;
  }
  return pos < s.size() ? pos : kNpos;
}

struct Identifier {
  std::string name;
  size_t begin;
  size_t end;
};

// Identifiers outside label matchers ({...}), ranges ([...]) and Grafana
// variables ($name): metric names, functions, keywords, grouping labels.
std::vector<Identifier> Identifiers(const std::string& blanked) {
  std::vector<Identifier> out;
  size_t i = 0;
  while (i < blanked.size()) {
    char c = blanked[i];
    if (c == '{' || c == '[') {
      size_t close = blanked.find(c == '{' ? '}' : ']', i);
      i = close == kNpos ? blanked.size() : close + 1;
    } else if (c == '$') {
      ++i;
      while (i < blanked.size() && IsIdentChar(blanked[i])) ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      // A number or duration: 0.99, 1e3, 30m.
      while (i < blanked.size() &&
             (IsIdentChar(blanked[i]) || blanked[i] == '.')) {
        ++i;
      }
    } else if (IsIdentStart(c)) {
      size_t begin = i;
      while (i < blanked.size() && IsIdentChar(blanked[i])) ++i;
      out.push_back({blanked.substr(begin, i - begin), begin, i});
    } else {
      ++i;
    }
  }
  return out;
}

bool IsFunctionCall(const std::string& blanked, const Identifier& id) {
  size_t next = NextNonSpace(blanked, id.end);
  return next != kNpos && blanked[next] == '(';
}

// Identifiers that name a series: the exporter's prefixes, or `up`.
std::vector<Identifier> MetricNames(const std::string& blanked) {
  std::vector<Identifier> out;
  for (const Identifier& id : Identifiers(blanked)) {
    if (IsFunctionCall(blanked, id)) continue;
    if (id.name.starts_with("aliyun_sas_") || id.name.starts_with("process_") ||
        id.name == "up") {
      out.push_back(id);
    }
  }
  return out;
}

// The name of the function whose parentheses enclose `pos`, "" for a plain
// grouping parenthesis or the top level.
std::string EnclosingFunction(const std::string& blanked, size_t pos) {
  int depth = 0;
  for (size_t i = pos; i-- > 0;) {
    if (blanked[i] == ')') {
      ++depth;
    } else if (blanked[i] == '(') {
      if (depth > 0) {
        --depth;
        continue;
      }
      size_t end = i;
      while (end > 0 &&
             std::isspace(static_cast<unsigned char>(blanked[end - 1]))) {
        --end;
      }
      size_t begin = end;
      while (begin > 0 && IsIdentChar(blanked[begin - 1])) --begin;
      return blanked.substr(begin, end - begin);
    }
  }
  return "";
}

size_t MatchingParen(const std::string& blanked, size_t open) {
  int depth = 0;
  for (size_t i = open; i < blanked.size(); ++i) {
    if (blanked[i] == '(') ++depth;
    if (blanked[i] == ')' && --depth == 0) return i;
  }
  return kNpos;
}

// The label matchers of `{job=~"$job", code!="x"}` (without braces) as
// name -> operator and value with spaces outside quotes removed: `=~"$job"`.
std::map<std::string, std::string> ParseMatchers(std::string_view text) {
  std::map<std::string, std::string> out;
  std::vector<std::string> parts(1);
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      parts.back() += c;
      if (c == '\\' && i + 1 < text.size()) {
        parts.back() += text[++i];
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
      parts.back() += c;
    } else if (c == ',') {
      parts.emplace_back();
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      parts.back() += c;
    }
  }
  for (const std::string& part : parts) {
    size_t op = part.find_first_of("=!");
    if (op == kNpos) continue;
    out[part.substr(0, op)] = part.substr(op);
  }
  return out;
}

// Series that carry the `account` label: every aliyun_sas_ family but the
// exporter's own.
bool HasAccountLabel(const std::string& metric) {
  return metric.starts_with("aliyun_sas_") &&
         !metric.starts_with("aliyun_sas_exporter_");
}

// ---------------------------------------------------------------------------
// The checks. Each returns one message per violation, naming the panel.

Violations CheckUid(const json& dashboard) {
  std::string uid = StringAt(dashboard, "uid");
  if (uid == kUid) return {};
  return {"dashboard uid is \"" + uid + "\", want \"" + std::string(kUid) +
          "\": a fixed uid keeps links to the dashboard stable"};
}

Violations CheckDatasourceVariable(const json& dashboard) {
  const json* variable = FindVariable(dashboard, "datasource");
  if (variable == nullptr) {
    return {"no template variable named `datasource`"};
  }
  Violations out;
  if (StringAt(*variable, "type") != "datasource") {
    out.push_back("variable `datasource` has type \"" +
                  StringAt(*variable, "type") + "\", want \"datasource\"");
  }
  if (StringAt(*variable, "query") != "prometheus") {
    out.push_back("variable `datasource` queries \"" +
                  StringAt(*variable, "query") + "\", want \"prometheus\"");
  }
  return out;
}

Violations CheckQueryVariables(const json& dashboard) {
  Violations out;
  for (const char* name : {"job", "instance", "account"}) {
    const json* variable = FindVariable(dashboard, name);
    std::string what = "variable `" + std::string(name) + "`";
    if (variable == nullptr) {
      out.push_back(what + " is missing");
      continue;
    }
    if (StringAt(*variable, "type") != "query") {
      out.push_back(what + " is not a query variable");
    }
    if (DatasourceOf(*variable) != kDatasourceRef) {
      out.push_back(what + " uses data source \"" + DatasourceOf(*variable) +
                    "\", want \"${datasource}\"");
    }
    if (!BoolAt(*variable, "multi")) {
      out.push_back(what + " is not multi-value");
    }
    if (!BoolAt(*variable, "includeAll")) {
      out.push_back(what + " has no All option");
    }
    if (StringAt(*variable, "allValue") != ".+") {
      out.push_back(what + " has allValue \"" +
                    StringAt(*variable, "allValue") + "\", want \".+\"");
    }
    if (VariableQueries(*variable).empty()) {
      out.push_back(what + " has no query");
    }
  }
  return out;
}

Violations CheckTitles(const json& dashboard) {
  Violations out;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (Trim(StringAt(*ref.panel, "title")).empty()) {
      out.push_back(ref.name + " has no title");
    }
  }
  return out;
}

Violations CheckDescriptions(const json& dashboard) {
  Violations out;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (IsRow(*ref.panel)) continue;
    if (Trim(StringAt(*ref.panel, "description")).empty()) {
      out.push_back(ref.name + " has no description");
    }
  }
  return out;
}

Violations CheckUnits(const json& dashboard) {
  Violations out;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (IsRow(*ref.panel)) continue;
    std::string unit;
    const json& panel = *ref.panel;
    if (panel.contains("fieldConfig") &&
        panel["fieldConfig"].contains("defaults")) {
      unit = StringAt(panel["fieldConfig"]["defaults"], "unit");
    }
    if (Trim(unit).empty()) {
      out.push_back(ref.name + " has no fieldConfig.defaults.unit");
    }
  }
  return out;
}

Violations CheckPanelDatasources(const json& dashboard) {
  Violations out;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (IsRow(*ref.panel)) continue;
    std::string datasource = DatasourceOf(*ref.panel);
    if (datasource != kDatasourceRef) {
      out.push_back(ref.name + " uses data source \"" + datasource +
                    "\", want \"${datasource}\"");
    }
  }
  return out;
}

Violations CheckTargetDatasources(const json& dashboard) {
  Violations out;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (IsRow(*ref.panel)) continue;
    const json& panel = *ref.panel;
    if (!panel.contains("targets") || !panel["targets"].is_array() ||
        panel["targets"].empty()) {
      out.push_back(ref.name + " has no queries");
    }
  }
  for (const TargetRef& ref : AllTargets(dashboard)) {
    std::string datasource = DatasourceOf(*ref.target);
    if (datasource != kDatasourceRef) {
      out.push_back(ref.name + " uses data source \"" + datasource +
                    "\", want \"${datasource}\"");
    }
    if (Trim(StringAt(*ref.target, "expr")).empty()) {
      out.push_back(ref.name + " has no expr");
    }
  }
  return out;
}

Violations CheckRateIntervals(const json& dashboard) {
  Violations out;
  for (const TargetRef& ref : AllTargets(dashboard)) {
    std::string blanked = BlankStrings(StringAt(*ref.target, "expr"));
    for (const Identifier& id : Identifiers(blanked)) {
      if (!kRateFunctions.contains(id.name) || !IsFunctionCall(blanked, id)) {
        continue;
      }
      size_t open = NextNonSpace(blanked, id.end);
      size_t close = MatchingParen(blanked, open);
      std::string args =
          blanked.substr(open + 1, close == kNpos ? kNpos : close - open - 1);
      bool has_range = false;
      for (size_t begin = args.find('['); begin != kNpos;
           begin = args.find('[', begin + 1)) {
        size_t end = args.find(']', begin);
        std::string range = Trim(
            args.substr(begin + 1, end == kNpos ? kNpos : end - begin - 1));
        has_range = true;
        if (range != kRateInterval) {
          out.push_back(ref.name + ": " + id.name + "() over [" + range +
                        "], want [$__rate_interval]");
        }
      }
      if (!has_range) {
        out.push_back(ref.name + ": " + id.name + "() without a range");
      }
    }
  }
  return out;
}

Violations CheckCounters(const json& dashboard) {
  Violations out;
  for (const TargetRef& ref : AllTargets(dashboard)) {
    std::string blanked = BlankStrings(StringAt(*ref.target, "expr"));
    for (const Identifier& id : MetricNames(blanked)) {
      if (!id.name.ends_with("_total")) continue;
      std::string function = EnclosingFunction(blanked, id.begin);
      if (kRateFunctions.contains(function)) continue;
      out.push_back(ref.name + ": counter " + id.name +
                    " outside rate()/increase() (" +
                    (function.empty() ? std::string("not in a function")
                                      : "in " + function + "()") +
                    ")");
    }
  }
  return out;
}

Violations CheckNoInputs(const json& dashboard) {
  Violations out;
  if (dashboard.contains("__inputs")) {
    out.push_back(
        "dashboard has __inputs: an \"export for sharing\" file breaks file "
        "provisioning");
  }
  // A panel's own JSON, without the panels of a row.
  auto uses_input = [](json copy) {
    if (copy.is_object()) copy.erase("panels");
    return copy.dump().find("${DS_") != kNpos;
  };
  size_t named = out.size();
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (uses_input(*ref.panel)) {
      out.push_back(ref.name + " uses a ${DS_...} input");
    }
  }
  for (const json* variable : Variables(dashboard)) {
    if (uses_input(*variable)) {
      out.push_back("variable `" + StringAt(*variable, "name") +
                    "` uses a ${DS_...} input");
    }
  }
  if (out.size() == named && dashboard.dump().find("${DS_") != kNpos) {
    out.push_back("the dashboard uses a ${DS_...} input outside its panels");
  }
  return out;
}

Violations CheckMetricNames(const json& dashboard) {
  Violations out;
  auto check = [&](const std::string& expr, const std::string& where) {
    for (const Identifier& id : MetricNames(BlankStrings(expr))) {
      if (!kKnownMetrics.contains(id.name)) {
        out.push_back(where + ": unknown metric " + id.name);
      }
    }
  };
  for (const TargetRef& ref : AllTargets(dashboard)) {
    check(StringAt(*ref.target, "expr"), ref.name);
  }
  for (const json* variable : Variables(dashboard)) {
    for (const std::string& query : VariableQueries(*variable)) {
      check(query, "variable `" + StringAt(*variable, "name") + "`");
    }
  }
  return out;
}

Violations CheckFilters(const json& dashboard) {
  Violations out;
  for (const TargetRef& ref : AllTargets(dashboard)) {
    std::string expr = StringAt(*ref.target, "expr");
    std::string blanked = BlankStrings(expr);
    for (const Identifier& id : MetricNames(blanked)) {
      std::vector<std::string> wanted = {"job", "instance"};
      if (HasAccountLabel(id.name)) wanted.push_back("account");
      size_t open = NextNonSpace(blanked, id.end);
      std::map<std::string, std::string> matchers;
      if (open != kNpos && blanked[open] == '{') {
        size_t close = blanked.find('}', open);
        matchers = ParseMatchers(std::string_view(expr).substr(
            open + 1, close == kNpos ? kNpos : close - open - 1));
      }
      for (const std::string& label : wanted) {
        std::string want = "=~\"$" + label + "\"";
        auto it = matchers.find(label);
        if (it == matchers.end() || it->second != want) {
          out.push_back(ref.name + ": " + id.name + " does not filter by " +
                        label + want);
        }
      }
    }
  }
  return out;
}

Violations CheckUniquePanelIds(const json& dashboard) {
  Violations out;
  std::set<std::string> seen;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (!ref.panel->contains("id") || !(*ref.panel)["id"].is_number_integer()) {
      out.push_back(ref.name + " has no integer id");
    } else if (!seen.insert((*ref.panel)["id"].dump()).second) {
      out.push_back(ref.name + " repeats an id");
    }
  }
  return out;
}

Violations CheckUniquePanelTitles(const json& dashboard) {
  Violations out;
  std::set<std::string> seen;
  for (const PanelRef& ref : AllPanels(dashboard)) {
    if (IsRow(*ref.panel)) continue;
    if (!seen.insert(StringAt(*ref.panel, "title")).second) {
      out.push_back(ref.name + " repeats a title");
    }
  }
  return out;
}

// Grafana provisioning files: a plain text check for `apiVersion: 1`.
Violations CheckApiVersion(const std::string& yaml, const std::string& path) {
  std::istringstream lines(yaml);
  std::string line;
  while (std::getline(lines, line)) {
    if (Trim(line) == "apiVersion: 1" && !line.starts_with(" ")) return {};
  }
  return {path + " has no top-level `apiVersion: 1`"};
}

// ---------------------------------------------------------------------------
// The real dashboard.

class DashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::optional<std::string> text = ReadFile(kDashboardPath);
    if (!text) {
      error_ = new std::string(std::string("cannot read ") + kDashboardPath);
      return;
    }
    std::string error;
    std::optional<json> dashboard = ParseDashboard(*text, &error);
    if (!dashboard) {
      error_ = new std::string(std::string(kDashboardPath) +
                               " is not valid JSON: " + error);
      return;
    }
    dashboard_ = new json(std::move(*dashboard));
  }

  static void TearDownTestSuite() {
    delete dashboard_;
    delete error_;
    dashboard_ = nullptr;
    error_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(dashboard_, nullptr) << *error_; }

  static const json& Dashboard() { return *dashboard_; }

 private:
  static json* dashboard_;
  static std::string* error_;
};

json* DashboardTest::dashboard_ = nullptr;
std::string* DashboardTest::error_ = nullptr;

TEST_F(DashboardTest, IsValidJson) {
  EXPECT_FALSE(AllPanels(Dashboard()).empty()) << "the dashboard has no panels";
}

TEST_F(DashboardTest, HasFixedUid) {
  Violations v = CheckUid(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, HasPrometheusDatasourceVariable) {
  Violations v = CheckDatasourceVariable(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, JobInstanceAccountVariablesUseDatasourceVariable) {
  Violations v = CheckQueryVariables(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, EveryPanelHasTitle) {
  Violations v = CheckTitles(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, EveryPanelHasDescription) {
  Violations v = CheckDescriptions(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, EveryPanelHasUnit) {
  Violations v = CheckUnits(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, EveryPanelUsesDatasourceVariable) {
  Violations v = CheckPanelDatasources(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, EveryTargetUsesDatasourceVariable) {
  Violations v = CheckTargetDatasources(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, RatesUseRateInterval) {
  Violations v = CheckRateIntervals(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, CountersOnlyThroughRateOrIncrease) {
  Violations v = CheckCounters(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, NoExportForSharingInputs) {
  Violations v = CheckNoInputs(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, QueriesUseOnlyExposedMetrics) {
  Violations v = CheckMetricNames(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, QueriesFilterByJobInstanceAndAccount) {
  Violations v = CheckFilters(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, PanelIdsAreUnique) {
  Violations v = CheckUniquePanelIds(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST_F(DashboardTest, PanelTitlesAreUnique) {
  Violations v = CheckUniquePanelTitles(Dashboard());
  EXPECT_TRUE(v.empty()) << Join(v);
}

// ---------------------------------------------------------------------------
// The provisioning files.

TEST(ProvisioningTest, DashboardProviderHasApiVersion1) {
  std::optional<std::string> yaml = ReadFile(kDashboardProvisioningPath);
  ASSERT_TRUE(yaml.has_value()) << "cannot read " << kDashboardProvisioningPath;
  Violations v = CheckApiVersion(*yaml, kDashboardProvisioningPath);
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST(ProvisioningTest, DatasourceHasApiVersion1) {
  std::optional<std::string> yaml = ReadFile(kDatasourceProvisioningPath);
  ASSERT_TRUE(yaml.has_value())
      << "cannot read " << kDatasourceProvisioningPath;
  Violations v = CheckApiVersion(*yaml, kDatasourceProvisioningPath);
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST(ProvisioningTest, DashboardProviderReadsFilesFromDashboardDirectory) {
  std::optional<std::string> yaml = ReadFile(kDashboardProvisioningPath);
  ASSERT_TRUE(yaml.has_value()) << "cannot read " << kDashboardProvisioningPath;
  EXPECT_THAT(*yaml, HasSubstr("type: file"));
  EXPECT_THAT(*yaml, HasSubstr("path: /var/lib/grafana/dashboards/aliyun-sas"));
}

TEST(ProvisioningTest, DatasourceIsPrometheusWithFixedUid) {
  std::optional<std::string> yaml = ReadFile(kDatasourceProvisioningPath);
  ASSERT_TRUE(yaml.has_value())
      << "cannot read " << kDatasourceProvisioningPath;
  EXPECT_THAT(*yaml, HasSubstr("type: prometheus"));
  EXPECT_THAT(*yaml, HasSubstr("uid: prometheus"));
  EXPECT_THAT(*yaml, HasSubstr("access: proxy"));
}

// ---------------------------------------------------------------------------
// Each check catches a violation: a copy of the real dashboard, broken once.

class CheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<std::string> text = ReadFile(kDashboardPath);
    ASSERT_TRUE(text.has_value()) << "cannot read " << kDashboardPath;
    std::string error;
    std::optional<json> dashboard = ParseDashboard(*text, &error);
    ASSERT_TRUE(dashboard.has_value()) << error;
    dashboard_ = std::move(*dashboard);
  }

  // What a lookup that failed (and said so) returns.
  static json& Missing() {
    static json* none = new json;
    *none = json::object();
    return *none;
  }

  // The panel titled `title`, wherever it is.
  json& Panel(const std::string& title) {
    json* found = FindPanel(dashboard_["panels"], title);
    if (found == nullptr) {
      ADD_FAILURE() << "no panel titled \"" << title << "\"";
      return Missing();
    }
    return *found;
  }

  json& Target(const std::string& title, const std::string& ref_id) {
    for (json& target : Panel(title)["targets"]) {
      if (StringAt(target, "refId") == ref_id) return target;
    }
    ADD_FAILURE() << "panel \"" << title << "\" has no target " << ref_id;
    return Missing();
  }

  json& Variable(const std::string& name) {
    for (json& variable : dashboard_["templating"]["list"]) {
      if (StringAt(variable, "name") == name) return variable;
    }
    ADD_FAILURE() << "no variable " << name;
    return Missing();
  }

  void ReplaceInExpr(const std::string& title, const std::string& ref_id,
                     const std::string& from, const std::string& to) {
    json& target = Target(title, ref_id);
    std::string expr = StringAt(target, "expr");
    size_t pos = expr.find(from);
    ASSERT_NE(pos, kNpos) << "\"" << from << "\" not in " << expr;
    target["expr"] = expr.replace(pos, from.size(), to);
  }

  json dashboard_;

 private:
  static json* FindPanel(json& panels, const std::string& title) {
    if (!panels.is_array()) return nullptr;
    for (json& panel : panels) {
      if (StringAt(panel, "title") == title) return &panel;
      if (panel.contains("panels")) {
        if (json* found = FindPanel(panel["panels"], title)) return found;
      }
    }
    return nullptr;
  }
};

TEST_F(CheckerTest, RealDashboardPassesEveryCheck) {
  for (auto check :
       {CheckUid, CheckDatasourceVariable, CheckQueryVariables, CheckTitles,
        CheckDescriptions, CheckUnits, CheckPanelDatasources,
        CheckTargetDatasources, CheckRateIntervals, CheckCounters,
        CheckNoInputs, CheckMetricNames, CheckFilters, CheckUniquePanelIds,
        CheckUniquePanelTitles}) {
    EXPECT_THAT(check(dashboard_), IsEmpty());
  }
}

TEST_F(CheckerTest, CatchesInvalidJson) {
  std::string error;
  EXPECT_FALSE(
      ParseDashboard("{\"uid\": \"aliyun-sas-exports\",", &error).has_value());
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(ParseDashboard("[]", &error).has_value());
}

TEST_F(CheckerTest, CatchesChangedUid) {
  dashboard_["uid"] = "Xy12abc";
  EXPECT_THAT(CheckUid(dashboard_), Contains(HasSubstr("Xy12abc")));
  dashboard_.erase("uid");
  EXPECT_THAT(CheckUid(dashboard_), Not(IsEmpty()));
}

TEST_F(CheckerTest, CatchesDatasourceVariableOfWrongKind) {
  Variable("datasource")["query"] = "loki";
  EXPECT_THAT(CheckDatasourceVariable(dashboard_),
              Contains(HasSubstr("\"loki\"")));
  Variable("datasource")["type"] = "custom";
  EXPECT_THAT(CheckDatasourceVariable(dashboard_),
              Contains(HasSubstr("\"custom\"")));
  Variable("datasource")["name"] = "ds";
  EXPECT_THAT(CheckDatasourceVariable(dashboard_),
              Contains(HasSubstr("no template variable")));
}

TEST_F(CheckerTest, CatchesQueryVariableProblems) {
  Variable("account")["datasource"]["uid"] = "prometheus";
  EXPECT_THAT(CheckQueryVariables(dashboard_),
              Contains(HasSubstr("variable `account` uses data source")));
  Variable("instance")["allValue"] = "";
  EXPECT_THAT(CheckQueryVariables(dashboard_),
              Contains(HasSubstr("variable `instance` has allValue")));
  Variable("job")["multi"] = false;
  EXPECT_THAT(CheckQueryVariables(dashboard_),
              Contains(HasSubstr("variable `job` is not multi-value")));
}

TEST_F(CheckerTest, CatchesMissingTitle) {
  Panel("CPU")["title"] = " ";
  EXPECT_THAT(CheckTitles(dashboard_), Contains(HasSubstr("has no title")));
}

TEST_F(CheckerTest, CatchesMissingDescriptionNamingThePanel) {
  Panel("Export tasks").erase("description");
  EXPECT_THAT(CheckDescriptions(dashboard_),
              Contains(HasSubstr("\"Export tasks\" has no description")));
}

// A collapsed row keeps its panels in its own `panels`: the checks look there.
TEST_F(CheckerTest, ChecksPanelsNestedInCollapsedRows) {
  json& panels = dashboard_["panels"];
  size_t total = AllPanels(dashboard_).size();
  json* row = nullptr;
  json nested = json::array();
  json top = json::array();
  for (json& panel : panels) {
    if (row != nullptr) {
      nested.push_back(panel);
    } else {
      top.push_back(panel);
      if (IsRow(panel) && StringAt(panel, "title") == "Exporter") {
        row = &top.back();
      }
    }
  }
  ASSERT_NE(row, nullptr) << "no row titled Exporter";
  ASSERT_FALSE(nested.empty());
  (*row)["collapsed"] = true;
  (*row)["panels"] = nested;
  panels = top;
  EXPECT_EQ(AllPanels(dashboard_).size(), total);
  EXPECT_THAT(CheckDescriptions(dashboard_), IsEmpty());

  Panel("CPU")["description"] = "";
  Panel("CPU")["fieldConfig"]["defaults"].erase("unit");
  Panel("CPU")["datasource"]["uid"] = "prometheus";
  EXPECT_THAT(CheckDescriptions(dashboard_),
              Contains(HasSubstr("\"Exporter\" > panel")));
  EXPECT_THAT(CheckDescriptions(dashboard_),
              Contains(HasSubstr("\"CPU\" has no description")));
  EXPECT_THAT(CheckUnits(dashboard_), Contains(HasSubstr("\"CPU\"")));
  EXPECT_THAT(CheckPanelDatasources(dashboard_),
              Contains(HasSubstr("\"CPU\"")));
}

TEST_F(CheckerTest, CatchesMissingUnit) {
  Panel("Data age")["fieldConfig"]["defaults"].erase("unit");
  EXPECT_THAT(CheckUnits(dashboard_),
              Contains(HasSubstr("\"Data age\" has no fieldConfig")));
}

TEST_F(CheckerTest, CatchesPanelWithFixedDatasource) {
  Panel("Export tasks")["datasource"] = {{"type", "prometheus"},
                                         {"uid", "P1809F7CD0C75ACF3"}};
  EXPECT_THAT(CheckPanelDatasources(dashboard_),
              Contains(HasSubstr("\"Export tasks\" uses data source "
                                 "\"P1809F7CD0C75ACF3\"")));
}

TEST_F(CheckerTest, CatchesTargetWithoutDatasource) {
  Target("API request latency", "B").erase("datasource");
  EXPECT_THAT(CheckTargetDatasources(dashboard_),
              Contains(HasSubstr("\"API request latency\" target B")));
}

TEST_F(CheckerTest, CatchesFixedRateRange) {
  ReplaceInExpr("CPU", "A", "[$__rate_interval]", "[5m]");
  EXPECT_THAT(CheckRateIntervals(dashboard_),
              Contains(HasSubstr("\"CPU\" target A: rate() over [5m]")));
}

TEST_F(CheckerTest, CatchesFixedRangeInOneOfSeveralRates) {
  json& target = Target("API requests and errors", "B");
  target["expr"] = StringAt(target, "expr") +
                   " / sum by (account, code) (increase("
                   "aliyun_sas_api_requests_total{job=~\"$job\","
                   "instance=~\"$instance\",account=~\"$account\"}[1h]))";
  EXPECT_THAT(CheckRateIntervals(dashboard_),
              Contains(HasSubstr("increase() over [1h]")));
}

TEST_F(CheckerTest, CatchesCounterOutsideRate) {
  ReplaceInExpr("API requests and errors", "A",
                "(rate(aliyun_sas_api_requests_total",
                "((aliyun_sas_api_requests_total");
  ReplaceInExpr("API requests and errors", "A", "[$__rate_interval]", "");
  EXPECT_THAT(CheckCounters(dashboard_),
              Contains(HasSubstr("\"API requests and errors\" target A: "
                                 "counter aliyun_sas_api_requests_total")));
  Target("CPU", "A")["expr"] =
      "process_cpu_seconds_total{job=~\"$job\",instance=~\"$instance\"}";
  EXPECT_THAT(CheckCounters(dashboard_),
              Contains(HasSubstr("\"CPU\" target A: counter "
                                 "process_cpu_seconds_total outside")));
}

TEST_F(CheckerTest, CatchesInputs) {
  dashboard_["__inputs"] =
      json::array({{{"name", "DS_PROMETHEUS"}, {"type", "datasource"}}});
  EXPECT_THAT(CheckNoInputs(dashboard_), Contains(HasSubstr("__inputs")));
}

TEST_F(CheckerTest, CatchesDsInputReference) {
  Target("Data age", "A")["datasource"]["uid"] = "${DS_PROMETHEUS}";
  EXPECT_THAT(CheckNoInputs(dashboard_),
              Contains(HasSubstr("\"Data age\" uses a ${DS_...} input")));
}

TEST_F(CheckerTest, CatchesRenamedMetric) {
  ReplaceInExpr("Progress over time", "A", "aliyun_sas_export_progress_ratio",
                "aliyun_sas_export_progress");
  EXPECT_THAT(CheckMetricNames(dashboard_),
              Contains(HasSubstr("\"Progress over time\" target A: unknown "
                                 "metric aliyun_sas_export_progress")));
}

TEST_F(CheckerTest, CatchesRenamedMetricInVariable) {
  Variable("job")["definition"] = "label_values(aliyun_sas_build_info, job)";
  EXPECT_THAT(CheckMetricNames(dashboard_),
              Contains(HasSubstr("variable `job`: unknown metric "
                                 "aliyun_sas_build_info")));
}

TEST_F(CheckerTest, CatchesMissingFilters) {
  ReplaceInExpr("Progress over time", "A", ",account=~\"$account\"", "");
  EXPECT_THAT(CheckFilters(dashboard_),
              Contains(HasSubstr("\"Progress over time\" target A: "
                                 "aliyun_sas_export_progress_ratio does not "
                                 "filter by account")));
  Target("Exporter up", "A")["expr"] = "up";
  EXPECT_THAT(CheckFilters(dashboard_),
              Contains(HasSubstr("\"Exporter up\" target A: up does not "
                                 "filter by job")));
}

TEST_F(CheckerTest, IgnoresNamesInStringsAndLabels) {
  Target("API requests and errors", "B")["expr"] =
      "sum by (account, code) (rate(aliyun_sas_api_request_errors_total"
      "{job=~\"$job\", instance=~\"$instance\", account=~\"$account\", "
      "code!~\"aliyun_sas_nope_total(x)\\\"[5m]\"}[ $__rate_interval ]))";
  for (auto check :
       {CheckRateIntervals, CheckCounters, CheckMetricNames, CheckFilters}) {
    EXPECT_THAT(check(dashboard_), IsEmpty());
  }
}

TEST_F(CheckerTest, CatchesDuplicatePanelIds) {
  Panel("CPU")["id"] = Panel("Data age")["id"];
  EXPECT_THAT(CheckUniquePanelIds(dashboard_),
              Contains(HasSubstr("repeats an id")));
}

TEST_F(CheckerTest, CatchesDuplicatePanelTitles) {
  Panel("CPU")["title"] = "Data age";
  EXPECT_THAT(CheckUniquePanelTitles(dashboard_),
              Contains(HasSubstr("\"Data age\" repeats a title")));
}

TEST(ProvisioningCheckerTest, CatchesMissingApiVersion) {
  EXPECT_THAT(CheckApiVersion("providers: []\n", "x.yml"),
              Contains(HasSubstr("x.yml has no top-level `apiVersion: 1`")));
  EXPECT_THAT(CheckApiVersion("apiVersion: 2\n", "x.yml"), Not(IsEmpty()));
  EXPECT_THAT(CheckApiVersion("# apiVersion: 1\n", "x.yml"), Not(IsEmpty()));
  EXPECT_THAT(CheckApiVersion("a:\n  apiVersion: 1\n", "x.yml"),
              Not(IsEmpty()));
  EXPECT_THAT(CheckApiVersion("apiVersion: 1\nproviders: []\n", "x.yml"),
              IsEmpty());
}

}  // namespace
