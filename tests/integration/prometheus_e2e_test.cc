// Proof against a real Prometheus (Debian's /usr/bin/prometheus): the
// simulator plays exports in every state, the exporter polls it, Prometheus
// scrapes the exporter and evaluates a copy of config/prometheus/alerts.yml
// with shortened thresholds. Asserted through Prometheus' HTTP API: every
// query of every dashboard panel returns data, every alert rule selects
// exactly the broken tasks, tasks registered through the task API and a task
// file are scraped, and an exporter restart keeps first-seen and
// last-progress times.
//
// Ports: the simulator and the exporter listen on port 0 and print the port
// they got. Prometheus does not print its port, so the test binds a socket to
// 127.0.0.1:0, reads the port, closes the socket and starts Prometheus on it
// at once; if another process took the port in between, Prometheus exits
// with "address already in use" and the test retries with a new port.
//
// Everything is one test: ctest runs each test in its own process, and
// starting Prometheus and letting it scrape is most of the runtime.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "support/harness.h"

namespace sas::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";
constexpr const char* kJob = "aliyun_sas";
constexpr const char* kRoleArn = "acs:ram::1234567890123456:role/sas-reader";

// The shortened thresholds. Stuck and InitStuck: 30m -> 6 s. A healthy export
// below moves 1 % a second and is polled every 500 ms, so the age of its last
// progress seen by a rule evaluation stays under ~3 s (progress step, poll,
// scrape and evaluation intervals); 6 s keeps it clear of the rule.
constexpr const char* kStuckSeconds = "6";
// TooLong: 6h -> 1h, not a few seconds: every export still exporting a few
// seconds after it was first seen would be "too long", healthy ones included.
// Instead the "running long" task is registered with a created_at two hours
// back (its first-seen time), which no healthy task has.
constexpr const char* kTooLongSeconds = "3600";

// The scenario. Every export id says what it plays; `healthy` ones must fire
// no alert.
constexpr long kHealthy = 101;         // progressing, 1 % a second
constexpr long kFinishes = 102;        // success after 2 s
constexpr long kStuckExporting = 103;  // exporting, stuck at 40 %
constexpr long kStuckInInit = 104;     // init forever
constexpr long kFailedStatus = 105;    // ends in the undocumented "failed"
constexpr long kServerError = 106;     // every poll fails (ServerError)
constexpr long kThrottled = 107;       // every attempt Throttling.User
constexpr long kDenied = 108;          // 403 NoPermission
constexpr long kViaRole = 109;         // healthy, account with STS credentials
constexpr long kRunningLong = 110;     // healthy, created 2 h ago (task file)
constexpr long kApiTask = 111;         // healthy, registered through the API
constexpr long kInitForLong = 112;     // init, created 40 min ago (task file)
constexpr long kSuspFailed = 113;      // DescribeSuspEventExportInfo: failed
constexpr long kBehind = 114;          // progressing; its account's rate
                                       // limit is below its demand

const char* const kScenario = R"(
[simulator]
seed = 7

[[export]]
id = 101
total_count = 100000
duration = "100s"

[[export]]
id = 102
total_count = 100
duration = "2s"

[[export]]
id = 103
stuck_at = 40
duration = "1s"

[[export]]
id = 104
stuck_in_init = true

[[export]]
id = 105
duration = "1s"
final_status = "failed"

[[export]]
id = 106
error_code = "ServerError"

[[export]]
id = 107
throttle_rate = 1.0
retry_after = "100ms"

[[export]]
id = 108
error_code = "NoPermission"
error_status = 403
error_message = "caller has no permission"

[[export]]
id = 109
duration = "100s"

[[export]]
id = 110
duration = "100s"

[[export]]
id = 111
duration = "100s"

[[export]]
id = 112
stuck_in_init = true

[[export]]
id = 113
action = "DescribeSuspEventExportInfo"
duration = "1s"
final_status = "failed"

[[export]]
id = 114
total_count = 100000
duration = "100s"

[[role]]
arn = "acs:ram::1234567890123456:role/sas-reader"
trusted_principals = ["AKID"]
)";

std::string Id(long export_id) { return std::to_string(export_id); }

std::string Account(const Simulator& sim, const std::string& name,
                    const std::string& credentials,
                    const std::string& max_requests_per_second = "200") {
  return "[[account]]\nname = \"" + name + "\"\nendpoint = \"" + sim.url() +
         "\"\nmax_requests_per_second = " + max_requests_per_second +
         "\n[account.credentials]\n" + credentials + "\n";
}

std::string Task(const std::string& account, long export_id,
                 const std::string& name) {
  return "[[task]]\naccount = \"" + account +
         "\"\nexport_id = " + Id(export_id) + "\nname = \"" + name + "\"\n\n";
}

std::string ExporterConfig(const Simulator& sim, const std::string& task_dir) {
  const std::string keys =
      "access_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n";
  return "[exporter]\npoll_interval = \"500ms\"\nrequest_timeout = \"2s\"\n"
         "connect_timeout = \"1s\"\nmax_retries = 1\ntask_files = [\"" +
         task_dir + "/*.json\"]\n\n" +
         Account(sim, "main", "type = \"access_key\"\n" + keys) +
         Account(sim, "throttled", "type = \"access_key\"\n" + keys) +
         Account(sim, "denied", "type = \"access_key\"\n" + keys) +
         Account(sim, "role",
                 "type = \"ram_role_arn\"\nrole_arn = \"" +
                     std::string(kRoleArn) + "\"\n" + keys +
                     "sts_endpoint = \"" + sim.url() + "\"\n") +
         // One task every 500 ms against one request a second.
         Account(sim, "behind", "type = \"access_key\"\n" + keys, "1") +
         Task("main", kHealthy, "healthy") +
         Task("main", kFinishes, "finishes") +
         Task("main", kStuckExporting, "stuck exporting") +
         Task("main", kStuckInInit, "stuck in init") +
         Task("main", kFailedStatus, "ends failed") +
         Task("main", kServerError, "server errors") +
         Task("throttled", kThrottled, "throttled") +
         Task("denied", kDenied, "denied") +
         Task("role", kViaRole, "via role") +
         Task("behind", kBehind, "behind") +
         "[[task]]\naccount = \"main\"\naction = "
         "\"DescribeSuspEventExportInfo\"\nexport_id = " +
         Id(kSuspFailed) + "\nname = \"events failed\"\n\n";
}

// Replaces every `from` in `text` by `to`; returns how many there were.
int ReplaceAll(std::string& text, const std::string& from,
               const std::string& to) {
  int count = 0;
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
    ++count;
  }
  return count;
}

int CountOf(const std::string& text, const std::string& what) {
  int count = 0;
  for (size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + what.size())) {
    ++count;
  }
  return count;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// config/prometheus/alerts.yml with the thresholds shortened for the test.
// The file is rendered from mixin/ (mixin/lib/yaml.libsonnet), which
// single-quotes strings (`for: '5m'`) and writes expressions as `|` blocks.
// Each replacement must match exactly as often as expected, so a changed rule
// breaks this test loudly instead of silently testing the wrong thing.
std::string ShortenedAlerts() {
  std::string rules =
      ReadFile(std::string(SAS_SOURCE_DIR) + "/config/prometheus/alerts.yml");
  struct Rewrite {
    std::string from, to;
    int count;
  };
  const Rewrite rewrites[] = {
      {"time() - aliyun_sas_export_last_progress_timestamp_seconds > 1800",
       std::string("time() - aliyun_sas_export_last_progress_timestamp_"
                   "seconds > ") +
           kStuckSeconds,
       1},
      {"time() - aliyun_sas_export_first_seen_timestamp_seconds > 1800",
       std::string(
           "time() - aliyun_sas_export_first_seen_timestamp_seconds > ") +
           kStuckSeconds,
       1},
      {"time() - aliyun_sas_export_first_seen_timestamp_seconds > 21600",
       std::string(
           "time() - aliyun_sas_export_first_seen_timestamp_seconds > ") +
           kTooLongSeconds,
       1},
      // Stuck, InitStuck, TooLong, UnknownStatus, ExporterDown.
      {"\n        for: '5m'\n", "\n        for: '0s'\n", 5},
      // PollFailing, Throttled, FallingBehind.
      {"\n        for: '15m'\n", "\n        for: '0s'\n", 3},
      // PermissionDenied, ExporterConfigReloadFailed.
      {"\n        for: '10m'\n", "\n        for: '0s'\n", 2},
      {"\n        for: '1m'\n", "\n        for: '0s'\n",
       1},  // CredentialsExpiring
  };
  for (const Rewrite& rewrite : rewrites) {
    int found = ReplaceAll(rules, rewrite.from, rewrite.to);
    if (found != rewrite.count) {
      throw std::runtime_error(
          "config/prometheus/alerts.yml changed: expected " +
          std::to_string(rewrite.count) + " occurrence(s) of \"" +
          rewrite.from + "\", found " + std::to_string(found) +
          "; update the threshold rewrites in prometheus_e2e_test.cc");
    }
  }
  // No `for` left unshortened (a new rule, or a new duration).
  if (CountOf(rules, "\n        for: ") !=
      CountOf(rules, "\n        for: '0s'\n")) {
    throw std::runtime_error(
        "config/prometheus/alerts.yml has a `for:` this test does not "
        "shorten; update the rewrites in prometheus_e2e_test.cc");
  }
  return rules;
}

// A port that was free a moment ago (see the comment at the top).
int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind 127.0.0.1:0");
  }
  close(fd);
  return ntohs(address.sin_port);
}

// The Prometheus server, killed at destruction (by its Process).
class Prometheus {
 public:
  Prometheus(const std::string& config_file, const std::string& data_dir) {
    for (int attempt = 1; attempt <= 5; ++attempt) {
      port_ = FreeLoopbackPort();
      process_ = std::make_unique<Process>(std::vector<std::string>{
          kPrometheusBinary, "--config.file=" + config_file,
          "--storage.tsdb.path=" + data_dir + "/attempt" +
              std::to_string(attempt),
          "--web.listen-address=127.0.0.1:" + std::to_string(port_),
          "--storage.tsdb.retention.time=1h"});
      if (process_->WaitForOutput("Server is ready to receive web requests",
                                  Seconds(30))) {
        break;
      }
      std::string output = process_->output();
      process_.reset();
      if (output.find("address already in use") == std::string::npos ||
          attempt == 5) {
        throw std::runtime_error("prometheus did not start:\n" + output);
      }
    }
    if (!WaitUntil([&] { return Get("/-/ready").first == 200; })) {
      throw std::runtime_error("prometheus is not ready:\n" +
                               process_->output());
    }
  }

  std::pair<int, std::string> Get(const std::string& path,
                                  const httplib::Params& params = {}) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    auto result = client.Get(path, params, httplib::Headers{});
    if (!result) return {0, ""};
    return {result->status, result->body};
  }

  // GET of an API path, parsed; a JSON null when the call failed.
  json Api(const std::string& path, const httplib::Params& params = {}) const {
    auto [status, body] = Get(path, params);
    if (status == 0) return json();
    return json::parse(body, nullptr, /*allow_exceptions=*/false);
  }

  // An instant query at the current time: the result vector, or nullopt with
  // `error` set when Prometheus refused the query.
  std::optional<json> Query(const std::string& expr,
                            std::string* error = nullptr) const {
    json answer = Api("/api/v1/query", {{"query", expr}});
    if (!answer.is_object() || answer.value("status", "") != "success") {
      if (error) {
        *error = answer.is_object() ? answer.value("error", answer.dump())
                                    : "no answer";
      }
      return std::nullopt;
    }
    if (answer["data"]["resultType"] == "scalar") {
      return json::array({json{{"metric", json::object()},
                               {"value", answer["data"]["result"]}}});
    }
    return answer["data"]["result"];
  }

  std::string output() const { return process_->output(); }

 private:
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// The file_sd file naming the exporter, replaced atomically.
void WriteTargets(const TempDir& dir, int exporter_port) {
  std::string tmp = dir.Write(
      "targets.json.tmp",
      R"([{"targets": ["127.0.0.1:)" + std::to_string(exporter_port) + "\"]}]");
  std::filesystem::rename(tmp, dir.path() + "/targets.json");
}

std::string Instance(const Exporter& exporter) {
  return "127.0.0.1:" + std::to_string(exporter.port());
}

std::string Tail(const std::string& text, size_t size = 6000) {
  return text.size() <= size ? text : "..." + text.substr(text.size() - size);
}

// For failure messages: is the exporter alive, what it and Prometheus said,
// and how Prometheus sees its target.
std::string Diagnose(Exporter& exporter, const Prometheus& prometheus) {
  std::optional<int> exited = exporter.process().Wait(Seconds(0));
  return (exited ? "\nexporter EXITED with status " + std::to_string(*exited)
                 : std::string("\nexporter running")) +
         "\ntargets: " + prometheus.Get("/api/v1/targets").second +
         "\nexporter output:\n" + Tail(exporter.process().output()) +
         "\nprometheus output:\n" + Tail(prometheus.output(), 3000);
}

// Identifies a series by some of its labels, "a/b".
std::string KeyOf(const json& metric, const std::vector<std::string>& labels) {
  std::string key;
  for (const std::string& label : labels) {
    if (!key.empty()) key += "/";
    key += metric.contains(label) ? metric[label].get<std::string>() : "";
  }
  return key;
}

std::string Describe(const std::set<std::string>& keys) {
  std::string text = "{";
  for (const std::string& key : keys)
    text += (text.size() > 1 ? ", " : "") + key;
  return text + "}";
}

// Grafana variables in a dashboard query, as the test sets them. Longer
// names first, so "$__range" does not eat "$__range_s".
std::string ExpandGrafanaVariables(std::string expr) {
  const std::pair<const char*, const char*> variables[] = {
      {"${__rate_interval}", "1m"},
      {"$__rate_interval", "1m"},
      {"${__interval}", "1m"},
      {"$__interval", "1m"},
      {"$__range_ms", "3600000"},
      {"$__range_s", "3600"},
      {"${__range}", "1h"},
      {"$__range", "1h"},
      {"${job}", kJob},
      {"$job", kJob},
      {"${instance}", ".+"},
      {"$instance", ".+"},
      {"${account}", ".+"},
      {"$account", ".+"},
  };
  for (const auto& [name, value] : variables) ReplaceAll(expr, name, value);
  return expr;
}

struct PanelQuery {
  std::string panel;  // "row / title"
  std::string expr;   // variables expanded
};

void CollectPanelQueries(const json& panels, const std::string& row,
                         std::vector<PanelQuery>* out) {
  for (const json& panel : panels) {
    std::string title = panel.value("title", "(untitled)");
    if (panel.value("type", "") == "row") {
      if (panel.contains("panels")) {
        CollectPanelQueries(panel["panels"], title, out);
      }
      continue;
    }
    if (panel.contains("panels"))
      CollectPanelQueries(panel["panels"], row, out);
    for (const json& target : panel.value("targets", json::array())) {
      if (!target.contains("expr")) continue;
      out->push_back(
          {row + " / " + title,
           ExpandGrafanaVariables(target["expr"].get<std::string>())});
    }
  }
}

// What an alert rule must select now: series identified by `labels`.
struct Expectation {
  std::vector<std::string> labels;
  std::set<std::string> keys;
};

std::set<std::string> Ids(std::initializer_list<long> ids) {
  std::set<std::string> keys;
  for (long id : ids) keys.insert(Id(id));
  return keys;
}

TEST(PrometheusE2E, DashboardAlertsRegisteredTasksAndRestart) {
  if (access(kPrometheusBinary, X_OK) != 0) {
    GTEST_SKIP() << kPrometheusBinary
                 << " is missing: install the Debian package `prometheus` "
                    "(scripts/install-deps does)";
  }
  const auto started = std::chrono::steady_clock::now();
  // Tasks no rule may select (kRunningLong progresses, but too long).
  const std::set<std::string> healthy =
      Ids({kHealthy, kFinishes, kViaRole, kApiTask, kBehind});

  TempDir dir;
  const std::string task_dir = dir.path() + "/tasks";
  const std::string storage = dir.path() + "/storage";
  std::filesystem::create_directories(task_dir);
  std::filesystem::create_directories(storage);

  Simulator sim(kScenario);
  // The first AssumeRole fails: the credential refresh-error panel has data.
  {
    httplib::Client control("127.0.0.1", sim.port());
    auto fail = control.Get("/_simulator/fail?service=sts&count=1");
    ASSERT_TRUE(fail && fail->status == 200);
  }
  // Task files: exports created long ago (their created_at is their first
  // seen time).
  const double now_unix =
      std::chrono::duration<double>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  const double running_long_created = std::floor(now_unix) - 7200;
  const double init_for_long_created = std::floor(now_unix) - 2400;
  dir.Write(
      "tasks/e2e.json",
      "[{\"account\": \"main\", \"export_id\": " + Id(kRunningLong) +
          ", \"name\": \"running long\", \"created_at\": " +
          std::to_string(static_cast<long>(running_long_created)) +
          "},\n {\"account\": \"main\", \"export_id\": " + Id(kInitForLong) +
          ", \"name\": \"init for 40m\", \"created_at\": " +
          std::to_string(static_cast<long>(init_for_long_created)) + "}]\n");

  const std::string exporter_config = ExporterConfig(sim, task_dir);
  const std::vector<std::string> exporter_flags = {"--web.enable-task-api",
                                                   "--storage.path", storage};
  auto exporter = std::make_unique<Exporter>(
      exporter_config, std::vector<std::string>{}, exporter_flags);
  {
    httplib::Client api("127.0.0.1", exporter->port());
    auto created =
        api.Post("/api/v1/tasks",
                 "{\"account\": \"main\", \"export_id\": " + Id(kApiTask) +
                     ", \"name\": \"api task\"}",
                 "application/json");
    ASSERT_TRUE(created) << exporter->process().output();
    ASSERT_EQ(created->status, 201) << created->body;
  }

  TempDir prometheus_dir;
  const std::string alerts =
      prometheus_dir.Write("alerts.yml", ShortenedAlerts());
  WriteTargets(prometheus_dir, exporter->port());
  const std::string config = prometheus_dir.Write(
      "prometheus.yml",
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      "  evaluation_interval: 1s\n"
      "rule_files:\n  - \"" +
          alerts +
          "\"\n"
          "scrape_configs:\n  - job_name: " +
          kJob + "\n    file_sd_configs:\n      - files:\n          - \"" +
          prometheus_dir.path() + "/targets.json\"\n");
  Prometheus prometheus(config, prometheus_dir.path());
  const std::string first_instance = Instance(*exporter);

  // --- The registered tasks are scraped. ---------------------------------
  for (long id : {kApiTask, kRunningLong, kInitForLong}) {
    std::string expr = "aliyun_sas_export_up{job=\"aliyun_sas\",instance=\"" +
                       first_instance + "\",export_id=\"" + Id(id) + "\"} == 1";
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto result = prometheus.Query(expr);
          return result && result->size() == 1;
        },
        Seconds(30)))
        << "registered task " << id << " not in Prometheus: " << expr
        << Diagnose(*exporter, prometheus);
  }
  ASSERT_FALSE(HasFailure());

  // --- Every query of every dashboard panel returns data. -----------------
  json dashboard = json::parse(ReadFile(std::string(SAS_SOURCE_DIR) +
                                        "/dashboards/aliyun-sas-exports.json"));
  std::vector<PanelQuery> queries;
  CollectPanelQueries(dashboard["panels"], "", &queries);
  ASSERT_GE(queries.size(), 20u) << "the dashboard lost its panels?";
  for (const PanelQuery& query : queries) {
    ASSERT_EQ(query.expr.find('$'), std::string::npos)
        << "panel \"" << query.panel
        << "\" uses a Grafana variable this test does not set: " << query.expr;
  }
  std::map<std::string, std::string> empty;  // panel+expr -> why
  WaitUntil(
      [&] {
        empty.clear();
        for (const PanelQuery& query : queries) {
          std::string error;
          auto result = prometheus.Query(query.expr, &error);
          if (!result) {
            empty[query.panel + ": " + query.expr] = "query failed: " + error;
          } else if (result->empty()) {
            empty[query.panel + ": " + query.expr] = "no series";
          }
        }
        return empty.empty();
      },
      Seconds(30));
  for (const auto& [what, why] : empty) {
    ADD_FAILURE() << "dashboard panel " << what << "\n  -> " << why;
  }
  if (!empty.empty()) ADD_FAILURE() << Diagnose(*exporter, prometheus);

  // --- Each alert rule selects exactly the broken tasks. ------------------
  const std::map<std::string, Expectation> expected = {
      {"AliyunSasExportStuck", {{"export_id"}, Ids({kStuckExporting})}},
      {"AliyunSasExportInitStuck",
       {{"export_id"}, Ids({kStuckInInit, kInitForLong})}},
      {"AliyunSasExportTooLong", {{"export_id"}, Ids({kRunningLong})}},
      {"AliyunSasExportUnknownStatus", {{"export_id"}, Ids({kFailedStatus})}},
      {"AliyunSasExportFailed", {{"export_id"}, Ids({kSuspFailed})}},
      {"AliyunSasExportPollFailing",
       {{"export_id"}, Ids({kServerError, kThrottled, kDenied})}},
      {"AliyunSasApiPermissionDenied",
       {{"account", "code"}, {"denied/NoPermission"}}},
      {"AliyunSasApiThrottled", {{"account"}, {"throttled"}}},
      {"AliyunSasExporterFallingBehind", {{"account"}, {"behind"}}},
      // The role's credentials are valid for an hour (checked below).
      {"AliyunSasCredentialsExpiring", {{"account"}, {}}},
      {"AliyunSasExporterDown", {{"instance"}, {}}},
      // The configuration loaded at start counts as a successful reload.
      {"AliyunSasExporterConfigReloadFailed", {{"instance"}, {}}},
  };
  std::map<std::string, std::string> rule_queries;  // alert -> expr
  std::string rule_problems;
  WaitUntil(
      [&] {
        rule_queries.clear();
        rule_problems.clear();
        json rules = prometheus.Api("/api/v1/rules");
        if (!rules.is_object() || rules.value("status", "") != "success") {
          rule_problems = "GET /api/v1/rules failed";
          return false;
        }
        for (const json& group : rules["data"]["groups"]) {
          for (const json& rule : group["rules"]) {
            if (rule.value("type", "") != "alerting") continue;
            rule_queries[rule["name"].get<std::string>()] =
                rule["query"].get<std::string>();
            if (rule.value("health", "") != "ok") {
              rule_problems += rule["name"].get<std::string>() + ": health " +
                               rule.value("health", "") + " " +
                               rule.value("lastError", "") + "\n";
            }
          }
        }
        return rule_problems.empty() && !rule_queries.empty();
      },
      Seconds(20));
  EXPECT_EQ(rule_problems, "") << prometheus.output();
  for (const auto& [name, expr] : rule_queries) {
    EXPECT_TRUE(expected.contains(name))
        << "alert rule " << name << " has no expectation in this test";
  }
  for (const auto& [name, expectation] : expected) {
    EXPECT_TRUE(rule_queries.contains(name))
        << "alert rule " << name << " is not loaded (renamed or removed?)";
  }

  // The series each rule selects now, and the alerts firing for it.
  std::map<std::string, std::set<std::string>> selected, firing;
  std::map<std::string, std::string> errors;
  std::vector<std::string> template_errors;
  auto rules_match = [&] {
    selected.clear();
    firing.clear();
    errors.clear();
    template_errors.clear();
    for (const auto& [name, expr] : rule_queries) {
      if (!expected.contains(name)) continue;
      const Expectation& expectation = expected.at(name);
      std::string error;
      auto result = prometheus.Query(expr, &error);
      if (!result) {
        errors[name] = error;
        continue;
      }
      selected[name];
      for (const json& series : *result) {
        selected[name].insert(KeyOf(series["metric"], expectation.labels));
      }
    }
    json alerts = prometheus.Api("/api/v1/alerts");
    if (alerts.is_object() && alerts.value("status", "") == "success") {
      for (const json& alert : alerts["data"]["alerts"]) {
        std::string name = alert["labels"].value("alertname", "");
        if (!expected.contains(name) || alert.value("state", "") != "firing") {
          continue;
        }
        firing[name].insert(KeyOf(alert["labels"], expected.at(name).labels));
        for (const auto& [key, text] : alert["annotations"].items()) {
          std::string value = text.get<std::string>();
          if (value.find("error expanding template") != std::string::npos) {
            template_errors.push_back(name + " " + key + ": " + value);
          }
        }
      }
    }
    for (const auto& [name, expectation] : expected) {
      if (selected[name] != expectation.keys) return false;
      if (firing[name] != expectation.keys) return false;
    }
    return errors.empty();
  };
  if (!WaitUntil(rules_match, Seconds(30))) {
    ADD_FAILURE() << "alert rules did not converge"
                  << Diagnose(*exporter, prometheus);
  }
  for (const auto& [name, expectation] : expected) {
    EXPECT_EQ(errors[name], "") << name;
    EXPECT_EQ(Describe(selected[name]), Describe(expectation.keys))
        << "alert rule " << name << " selects the wrong series; expr:\n"
        << rule_queries[name];
    EXPECT_EQ(Describe(firing[name]), Describe(expectation.keys))
        << "alerts firing for " << name;
    if (expectation.labels == std::vector<std::string>{"export_id"}) {
      for (const std::string& id : selected[name]) {
        EXPECT_FALSE(healthy.contains(id))
            << name << " selects healthy export " << id;
      }
    }
  }
  EXPECT_THAT(template_errors, ::testing::IsEmpty());
  // The empty expectations are not empty for lack of data.
  {
    auto credentials = prometheus.Query(
        "aliyun_sas_credentials_expiry_timestamp_seconds{account=\"role\","
        "provider=\"ram_role_arn\"} - time() > 600");
    EXPECT_TRUE(credentials && credentials->size() == 1)
        << "the role account should have credentials valid for ~1h";
    auto up = prometheus.Query("up{job=\"aliyun_sas\"} == 1");
    EXPECT_TRUE(up && up->size() == 1) << "the exporter should be up";
  }

  // --- A restart keeps first-seen and last-progress times. ----------------
  // Every task's first seen; last progress of those whose progress cannot
  // move any more (stuck, finished, failing: never polled successfully).
  const std::set<std::string> progressing =
      Ids({kHealthy, kViaRole, kRunningLong, kApiTask, kBehind});
  auto values = [&](const std::string& metric, const std::string& instance) {
    std::map<std::string, double> by_id;
    auto result = prometheus.Query(metric + "{job=\"aliyun_sas\",instance=\"" +
                                   instance + "\"}");
    if (!result) return by_id;
    for (const json& series : *result) {
      by_id[series["metric"].value("export_id", "")] =
          std::stod(series["value"][1].get<std::string>());
    }
    return by_id;
  };
  const auto first_seen_before =
      values("aliyun_sas_export_first_seen_timestamp_seconds", first_instance);
  auto last_progress_before = values(
      "aliyun_sas_export_last_progress_timestamp_seconds", first_instance);
  for (const std::string& id : progressing) last_progress_before.erase(id);
  ASSERT_EQ(first_seen_before.size(), 14u) << prometheus.output();
  ASSERT_EQ(last_progress_before.size(), 9u);
  // created_at became the first-seen time.
  EXPECT_DOUBLE_EQ(first_seen_before.at(Id(kRunningLong)),
                   running_long_created);
  EXPECT_DOUBLE_EQ(first_seen_before.at(Id(kInitForLong)),
                   init_for_long_created);

  auto start_time = [&](const std::string& instance) -> std::optional<double> {
    auto result = prometheus.Query(
        "process_start_time_seconds{job=\"aliyun_sas\","
        "instance=\"" +
        instance + "\"}");
    if (!result || result->size() != 1) return std::nullopt;
    return std::stod((*result)[0]["value"][1].get<std::string>());
  };
  const std::optional<double> first_start = start_time(first_instance);
  ASSERT_TRUE(first_start.has_value());

  exporter->process().Signal(SIGTERM);
  ASSERT_EQ(exporter->process().Wait(Seconds(10)), 0)
      << exporter->process().output();
  exporter.reset();
  exporter = std::make_unique<Exporter>(
      exporter_config, std::vector<std::string>{}, exporter_flags);
  const std::string second_instance = Instance(*exporter);
  WriteTargets(prometheus_dir, exporter->port());
  // Scraped from the new process (the port may even be the same), then every
  // task polled at least once by it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto start = start_time(second_instance);
        return start && *start != *first_start;
      },
      Seconds(30)))
      << "Prometheus did not scrape the restarted exporter"
      << Diagnose(*exporter, prometheus);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return values("aliyun_sas_export_up", second_instance).size() == 14;
      },
      Seconds(30)))
      << "the restarted exporter's tasks did not all reach Prometheus"
      << Diagnose(*exporter, prometheus);
  const auto first_seen_after =
      values("aliyun_sas_export_first_seen_timestamp_seconds", second_instance);
  const auto last_progress_after = values(
      "aliyun_sas_export_last_progress_timestamp_seconds", second_instance);
  for (const auto& [id, before] : first_seen_before) {
    ASSERT_TRUE(first_seen_after.contains(id)) << "task " << id;
    EXPECT_NEAR(first_seen_after.at(id), before, 1e-3)
        << "first seen of export " << id << " changed across a restart";
  }
  for (const auto& [id, before] : last_progress_before) {
    ASSERT_TRUE(last_progress_after.contains(id)) << "task " << id;
    EXPECT_NEAR(last_progress_after.at(id), before, 1e-3)
        << "last progress of export " << id << " changed across a restart";
  }

  std::cout << "[ prometheus e2e ] "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             started)
                   .count()
            << " s\n";
}

}  // namespace
}  // namespace sas::testing
