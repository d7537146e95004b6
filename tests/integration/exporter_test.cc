// The exporter polling the simulator, both as real processes on loopback,
// asserted through /metrics, the logs and the simulator's stats.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/gzip.h"
#include "support/harness.h"

namespace sas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "SECRET";

// An exporter configuration with one account on the simulator.
// exporter_extra holds "key = value" lines that override the test defaults.
std::string Config(const Simulator& sim, const std::string& tasks,
                   const std::string& exporter_extra = "",
                   const std::string& account_extra = "",
                   const std::string& secret = kSecret) {
  std::map<std::string, std::string> exporter = {{"poll_interval", "\"300ms\""},
                                                 {"request_timeout", "\"2s\""},
                                                 {"connect_timeout", "\"1s\""},
                                                 {"max_retries", "2"}};
  std::istringstream lines(exporter_extra);
  for (std::string line; std::getline(lines, line);) {
    auto eq = line.find(" = ");
    if (eq != std::string::npos)
      exporter[line.substr(0, eq)] = line.substr(eq + 3);
  }
  std::string table = "[exporter]\n";
  for (const auto& [key, value] : exporter) table += key + " = " + value + "\n";
  return table + "\n[[account]]\nname = \"sim\"\nendpoint = \"" + sim.url() +
         "\"\nmax_requests_per_second = 200\n" + account_extra +
         "\n[account.credentials]\naccess_key_id = \"AKID\"\n"
         "access_key_secret = \"" +
         secret + "\"\n\n" + tasks;
}

std::string Task(long export_id, const std::string& extra = "") {
  return "[[task]]\naccount = \"sim\"\nexport_id = " +
         std::to_string(export_id) + "\n" + extra + "\n";
}

std::string Series(const std::string& metric, long export_id,
                   const std::string& rd = "") {
  return metric +
         "{account=\"sim\",action=\"DescribeExportInfo\",export_id=\"" +
         std::to_string(export_id) + "\",rd_account_id=\"" + rd + "\"";
}

// The errors counter's series for one error code.
std::string ApiErrors(const std::string& code) {
  return "aliyun_sas_api_request_errors_total{account=\"sim\","
         "action=\"DescribeExportInfo\",code=\"" +
         code + "\"}";
}

bool Exists(double) { return true; }

std::optional<double> Value(const Exporter& exporter, const std::string& metric,
                            long export_id, const std::string& suffix = "") {
  return FindSample(exporter.Metrics(), Series(metric, export_id) + suffix);
}

bool WaitForValue(const Exporter& exporter, const std::string& metric,
                  long export_id, double expected,
                  const std::string& suffix = "") {
  return WaitUntil([&] {
    auto v = Value(exporter, metric, export_id, suffix);
    return v && *v == expected;
  });
}

void ExpectNoSecrets(const std::string& text) {
  EXPECT_THAT(text, Not(HasSubstr(kSecret)));
  EXPECT_THAT(text, Not(HasSubstr("OSSAccessKeyId")));
  EXPECT_THAT(text, Not(HasSubstr("Signature=")));
  EXPECT_THAT(text, Not(HasSubstr("string to sign")));
}

TEST(Exporter, ReportsProgressCountsAndStatusOfAProgressingExport) {
  Simulator sim(R"(
[[export]]
id = 1001
file_name = "asset_export_1001"
total_count = 5000
duration = "1h"
)");
  Exporter exporter(Config(sim, Task(1001, "name = \"nightly assets\"")));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 1001, 1))
      << exporter.process().output();
  std::string metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, Series("aliyun_sas_export_status", 1001) +
                                    ",status=\"exporting\"}"),
            1);
  EXPECT_EQ(FindSample(metrics, Series("aliyun_sas_export_status", 1001) +
                                    ",status=\"success\"}"),
            0);
  EXPECT_EQ(
      FindSample(metrics, Series("aliyun_sas_export_total_entries", 1001)),
      5000);
  EXPECT_THAT(metrics, HasSubstr("task=\"nightly assets\",file_name="
                                 "\"asset_export_1001\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_tasks 1\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_build_info{"));
  EXPECT_THAT(metrics, HasSubstr("process_resident_memory_bytes "));
  EXPECT_TRUE(FindSample(metrics, Series("aliyun_sas_export_last_success_"
                                         "timestamp_seconds",
                                         1001)) > 1.7e9);
  ExpectNoSecrets(metrics);
}

TEST(Exporter, FinishedExportIsPolledNoMoreAndDisappearsAfterRetention) {
  Simulator sim(R"(
[[export]]
id = 7
total_count = 10
duration = "1ms"
)");
  Exporter exporter(Config(sim, Task(7), "finished_retention = \"2s\""));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_status", 7, 1,
                           ",status=\"success\"}"))
      << exporter.process().output();
  EXPECT_EQ(Value(exporter, "aliyun_sas_export_progress_ratio", 7), 1);
  EXPECT_EQ(Value(exporter, "aliyun_sas_export_current_entries", 7), 10);
  auto polls = nlohmann::json::parse(sim.Stats())["by_export"]["7"].get<int>();
  ASSERT_TRUE(WaitUntil(
      [&] { return !Value(exporter, "aliyun_sas_export_up", 7).has_value(); },
      Seconds(10)));
  EXPECT_THAT(exporter.Metrics(), HasSubstr("aliyun_sas_exporter_tasks 0\n"));
  // Polled once: nothing after success (the series lived 2 s = 6 intervals).
  EXPECT_EQ(nlohmann::json::parse(sim.Stats())["by_export"]["7"].get<int>(),
            polls);
  EXPECT_EQ(polls, 1);
}

TEST(Exporter, StuckAndUnknownStatesAreExposed) {
  Simulator sim(R"(
[[export]]
id = 1
stuck_at = 40
duration = "10ms"

[[export]]
id = 2
stuck_in_init = true

[[export]]
id = 3
duration = "10ms"
final_status = "failed"
)");
  Exporter exporter(Config(sim, Task(1) + Task(2) + Task(3)));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_status", 3, 1,
                           ",status=\"unknown\"}"))
      << exporter.process().output();
  ASSERT_TRUE(
      WaitForValue(exporter, "aliyun_sas_export_progress_ratio", 1, 0.4));
  std::string metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, Series("aliyun_sas_export_status", 1) +
                                    ",status=\"exporting\"}"),
            1);
  EXPECT_EQ(FindSample(metrics, Series("aliyun_sas_export_status", 2) +
                                    ",status=\"init\"}"),
            1);
  EXPECT_EQ(FindSample(metrics, Series("aliyun_sas_export_progress_ratio", 2)),
            0);
  // An undocumented final status is not success: the task stays polled.
  auto before = nlohmann::json::parse(sim.Stats())["by_export"]["3"].get<int>();
  ASSERT_TRUE(WaitUntil([&] {
    return nlohmann::json::parse(sim.Stats())["by_export"]["3"].get<int>() >
           before;
  }));
}

TEST(Exporter, PermanentErrorIsNotRetriedAndCountedByCode) {
  Simulator sim(R"(
[[export]]
id = 5
error_code = "NoPermission"
error_status = 403
error_message = "caller has no permission"
)");
  Exporter exporter(Config(sim, Task(5)));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 5, 0))
      << exporter.process().output();
  ASSERT_TRUE(WaitForSample(exporter, ApiErrors("NoPermission"),
                            [](double v) { return v >= 2; }));
  std::string metrics = exporter.Metrics();
  double requests =
      *FindSample(metrics, "aliyun_sas_api_requests_total{account=\"sim\"");
  double errors = *FindSample(
      metrics, "aliyun_sas_api_request_errors_total{account=\"sim\"");
  // Every attempt failed, and each poll made exactly one attempt: the
  // simulator saw no more requests than polls.
  EXPECT_EQ(requests, errors);
  EXPECT_FALSE(Value(exporter, "aliyun_sas_export_progress_ratio", 5));
  EXPECT_THAT(exporter.process().output(), HasSubstr("code=NoPermission"));
}

TEST(Exporter, RetryableErrorsAreRetriedAndEveryAttemptCounted) {
  Simulator sim(R"(
[[export]]
id = 9
error_code = "ServerError"
error_status = 500
)");
  Exporter exporter(Config(sim, Task(9), "max_retries = 2"));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 9, 0))
      << exporter.process().output();
  // Three attempts per poll: the simulator and the counter agree.
  ASSERT_TRUE(WaitForSample(exporter, ApiErrors("ServerError"),
                            [](double v) { return v >= 3; }));
  auto stats = nlohmann::json::parse(sim.Stats());
  EXPECT_GE(stats["by_code"]["ServerError"].get<int>(), 3);
}

TEST(Exporter, ThrottlingIsRetriedAfterTheServersDelay) {
  Simulator sim(R"(
[simulator]
seed = 7

[[export]]
id = 11
throttle_rate = 0.5
retry_after = "50ms"
duration = "1h"
)");
  Exporter exporter(Config(sim, Task(11), "max_retries = 5"));
  ASSERT_TRUE(WaitForSample(exporter, ApiErrors("Throttling.User"),
                            [](double v) { return v >= 2; }))
      << exporter.process().output();
  EXPECT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 11, 1));
}

TEST(Exporter, SlowAnswerTimesOut) {
  Simulator sim(R"(
[[export]]
id = 12
latency = "5s"
)");
  Exporter exporter(Config(sim, Task(12),
                           "request_timeout = \"300ms\"\n"
                           "max_retries = 0"));
  ASSERT_TRUE(WaitForSample(exporter, ApiErrors("timeout"), Exists))
      << exporter.process().output();
  EXPECT_EQ(Value(exporter, "aliyun_sas_export_up", 12), 0);
}

TEST(Exporter, MemberAccountExportNeedsItsResourceDirectoryAccountId) {
  Simulator sim(R"(
[[export]]
id = 21
rd_account_id = 16670360956
duration = "1h"

[[export]]
id = 22
rd_account_id = 16670360956
duration = "1h"
)");
  Exporter exporter(
      Config(sim, Task(21, "rd_account_id = 16670360956") + Task(22)));
  ASSERT_TRUE(WaitUntil([&] {
    return FindSample(exporter.Metrics(),
                      Series("aliyun_sas_export_up", 21, "16670360956")) == 1;
  })) << exporter.process().output();
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 22, 0));
  EXPECT_THAT(exporter.Metrics(), HasSubstr("code=\"RdCheckNoPermission\""));
}

TEST(Exporter, NonJsonAnswerIsBadResponse) {
  Simulator sim(R"(
[[export]]
id = 31
non_json_rate = 1.0
)");
  Exporter exporter(Config(sim, Task(31)));
  ASSERT_TRUE(WaitForSample(exporter, ApiErrors("bad_response"), Exists))
      << exporter.process().output();
  EXPECT_EQ(Value(exporter, "aliyun_sas_export_up", 31), 0);
}

TEST(Exporter, UnknownExportIdIsReportedByCode) {
  Simulator sim("[[export]]\nid = 1\n");
  Exporter exporter(Config(sim, Task(404404)));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 404404, 0))
      << exporter.process().output();
  EXPECT_THAT(exporter.Metrics(),
              HasSubstr("code=\"InvalidExportId.NotFound\""));
}

constexpr const char* kReloadOk =
    "aliyun_sas_exporter_config_last_reload_successful";
constexpr const char* kReloadTime =
    "aliyun_sas_exporter_config_last_reload_success_timestamp_seconds";

// POST (or another method) on /-/reload; returns (status, body).
std::pair<int, std::string> Reload(const Exporter& exporter,
                                   const std::string& method = "POST") {
  httplib::Client client("127.0.0.1", exporter.port());
  httplib::Result res =
      method == "POST" ? client.Post("/-/reload") : client.Get("/-/reload");
  if (!res) return {0, ""};
  return {res->status, res->body};
}

// Polls of one export so far, from the simulator's request log.
int Polls(const Simulator& sim, long export_id) {
  auto stats = nlohmann::json::parse(sim.Stats());
  auto count = stats["by_export"][std::to_string(export_id)];
  return count.is_null() ? 0 : count.get<int>();
}

// Reload in place by SIGHUP and by POST /-/reload, each with a good and a
// bad new configuration: what stays keeps its clocks and series, removed
// tasks go, added ones are polled, and a refused file changes nothing.
TEST(Exporter, ReloadsBySignalAndEndpointWithoutLosingAnything) {
  Simulator sim(R"(
[[export]]
id = 1
duration = "1h"
[[export]]
id = 2
duration = "1h"
[[export]]
id = 3
duration = "1h"
)");
  Exporter exporter(Config(sim, Task(1) + Task(2)), {},
                    {"--web.enable-lifecycle"});
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 1, 1))
      << exporter.process().output();
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 2, 1));
  const std::string first_seen_metric =
      "aliyun_sas_export_first_seen_timestamp_seconds";
  std::optional<double> first_seen = Value(exporter, first_seen_metric, 1);
  ASSERT_TRUE(first_seen);
  double loaded_at = *FindSample(exporter.Metrics(), kReloadTime);
  EXPECT_EQ(FindSample(exporter.Metrics(), kReloadOk), 1);
  auto rewrite = [&](const std::string& config) {
    exporter.dir().Write("exporter.toml", config);
  };

  // SIGHUP, good: task 2 out, task 3 in.
  rewrite(Config(sim, Task(1) + Task(3)));
  exporter.process().Signal(SIGHUP);
  ASSERT_TRUE(WaitForSample(exporter, kReloadTime, [&](double v) {
    return v > loaded_at;
  })) << exporter.process().output();
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 3, 1));
  std::string metrics = exporter.Metrics();
  EXPECT_FALSE(FindSample(metrics, Series("aliyun_sas_export_up", 2)));
  EXPECT_EQ(FindSample(metrics, Series(first_seen_metric, 1)), first_seen);
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_tasks 2\n"));
  EXPECT_THAT(exporter.process().output(), HasSubstr("Configuration reloaded"));

  // SIGHUP, bad: refused with the loader's position; everything stays and
  // polling goes on.
  rewrite(Config(sim, Task(1) + Task(3)) +
          "[[task]]\naccount = \"nope\"\nexport_id = 9\n");
  exporter.process().Signal(SIGHUP);
  ASSERT_TRUE(WaitForSample(exporter, kReloadOk, [](double v) {
    return v == 0;
  })) << exporter.process().output();
  auto failure =
      exporter.process().WaitForOutput("Configuration reload failed");
  ASSERT_TRUE(failure);
  EXPECT_THAT(*failure, HasSubstr("exporter.toml:"));
  EXPECT_THAT(*failure, HasSubstr("no account named"));
  int polls = Polls(sim, 3);
  ASSERT_TRUE(WaitUntil([&] { return Polls(sim, 3) > polls; }));
  metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, Series("aliyun_sas_export_up", 3)), 1);
  EXPECT_EQ(FindSample(metrics, Series(first_seen_metric, 1)), first_seen);
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_tasks 2\n"));

  // POST, bad: 500 with the problem, no secret.
  auto [status, body] = Reload(exporter);
  EXPECT_EQ(status, 500);
  EXPECT_THAT(body, HasSubstr("failed to reload config: "));
  EXPECT_THAT(body, HasSubstr("no account named \"nope\""));
  ExpectNoSecrets(body);
  EXPECT_EQ(Reload(exporter, "GET").first, 405);

  // POST, good: task 3 out, task 2 back; 1 kept its clock all along.
  rewrite(Config(sim, Task(1) + Task(2)));
  EXPECT_EQ(Reload(exporter).first, 200);
  metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, kReloadOk), 1);
  EXPECT_FALSE(FindSample(metrics, Series("aliyun_sas_export_up", 3)));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 2, 1));
  EXPECT_EQ(Value(exporter, first_seen_metric, 1), first_seen);
  ExpectNoSecrets(exporter.process().output());
  exporter.process().Signal(SIGTERM);
  EXPECT_EQ(exporter.process().Wait(), 0);
}

TEST(Exporter, ReloadEndpointIsForbiddenWithoutTheLifecycleFlag) {
  Simulator sim("[[export]]\nid = 1\nduration = \"1h\"\n");
  Exporter exporter(Config(sim, Task(1)));
  auto [status, body] = Reload(exporter);
  EXPECT_EQ(status, 403);
  EXPECT_THAT(body, HasSubstr("Lifecycle API is not enabled."));
  EXPECT_EQ(exporter.Get("/-/healthy").first, 200);
}

TEST(Exporter, WrongSecretIsSignatureErrorWithoutLeakingAnything) {
  Simulator sim("[[export]]\nid = 1\nduration = \"1h\"\n");
  Exporter exporter(Config(sim, Task(1), "", "", "WRONG-SECRET-VALUE"));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 1, 0))
      << exporter.process().output();
  std::string metrics = exporter.Metrics();
  EXPECT_THAT(metrics, HasSubstr("code=\"SignatureDoesNotMatch\""));
  exporter.process().Signal(SIGTERM);
  exporter.process().Wait();
  std::string logs = exporter.process().output();
  EXPECT_THAT(logs, HasSubstr("code=SignatureDoesNotMatch"));
  EXPECT_THAT(logs, Not(HasSubstr("WRONG-SECRET-VALUE")));
  EXPECT_THAT(logs, Not(HasSubstr("string to sign")));
  EXPECT_THAT(metrics, Not(HasSubstr("WRONG-SECRET-VALUE")));
}

TEST(Exporter, SignatureV1AccountWorks) {
  Simulator sim("[[export]]\nid = 41\nduration = \"1h\"\n");
  Exporter exporter(Config(sim, Task(41), "", "signature_version = \"v1\""));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 41, 1))
      << exporter.process().output();
}

TEST(Exporter, ReadyAfterEveryTaskWasPolledOnce) {
  Simulator sim(R"(
[[export]]
id = 1
duration = "1h"
latency = "1500ms"
)");
  Exporter exporter(Config(sim, Task(1), "poll_interval = \"10s\""));
  EXPECT_EQ(exporter.Get("/-/ready").first, 503);
  EXPECT_EQ(exporter.Get("/-/healthy").first, 200);
  EXPECT_TRUE(WaitUntil([&] { return exporter.Get("/-/ready").first == 200; }))
      << exporter.process().output();
}

TEST(Exporter, StopsWithinTwoSecondsWithARequestInFlight) {
  Simulator sim(R"(
[[export]]
id = 1
latency = "30s"
)");
  Exporter exporter(Config(sim, Task(1), "request_timeout = \"60s\""));
  ASSERT_TRUE(WaitUntil([&] {
    return nlohmann::json::parse(sim.Stats())["in_flight"].get<int>() >= 1;
  }));
  auto started = std::chrono::steady_clock::now();
  exporter.process().Signal(SIGTERM);
  auto status = exporter.process().Wait(Seconds(5));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_THAT(exporter.process().output(), HasSubstr("msg=Stopped"));
}

TEST(Exporter, ConcurrencyBoundsRequestsInFlight) {
  std::string scenario, tasks;
  for (int id = 1; id <= 12; ++id) {
    scenario += "[[export]]\nid = " + std::to_string(id) +
                "\nduration = \"1h\"\nlatency = \"200ms\"\n";
    tasks += Task(id);
  }
  Simulator sim(scenario);
  Exporter exporter(
      Config(sim, tasks, "concurrency = 3\npoll_interval = \"1s\""));
  ASSERT_TRUE(WaitUntil([&] { return exporter.Get("/-/ready").first == 200; }))
      << exporter.process().output();
  auto stats = nlohmann::json::parse(sim.Stats());
  EXPECT_LE(stats["max_in_flight"].get<int>(), 3);
  EXPECT_GE(stats["max_in_flight"].get<int>(), 2);
}

TEST(Exporter, AccountRateLimitSpacesRequests) {
  std::string scenario, tasks;
  for (int id = 1; id <= 6; ++id) {
    scenario +=
        "[[export]]\nid = " + std::to_string(id) + "\nduration = \"1h\"\n";
    tasks += Task(id);
  }
  Simulator sim(scenario);
  std::string config = Config(sim, tasks, "poll_interval = \"100ms\"");
  // Two requests per second for this account, whatever the interval asks.
  config.replace(config.find("max_requests_per_second = 200"), 29,
                 "max_requests_per_second = 2");
  Exporter exporter(config);
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitUntil([&] {
    return nlohmann::json::parse(sim.Stats())["requests"].get<int>() >= 6;
  }));
  auto took = std::chrono::steady_clock::now() - started;
  // A burst of 2, then one every 0.5 s: the 6th request is >= 2 s in.
  EXPECT_GE(took, std::chrono::milliseconds(1800));
}

TEST(Exporter, ServesGzipAndPassesPromtool) {
  Simulator sim(R"(
[[export]]
id = 1
duration = "1h"
[[export]]
id = 2
error_code = "ServerError"
)");
  Exporter exporter(
      Config(sim, Task(1, "name = \"a \\\"quoted\\\" name\"") + Task(2)));
  ASSERT_TRUE(WaitUntil([&] { return exporter.Get("/-/ready").first == 200; }));
  auto gz = exporter.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(gz.first, 200);
  // One gzip member, as zlib's inflate reads it; the page inside is the
  // same families as the text page and passes promtool too.
  std::optional<std::string> unpacked = Gunzip(gz.second);
  ASSERT_TRUE(unpacked.has_value());
  std::string metrics = exporter.Metrics();
  auto families = [](const std::string& page) {
    std::string names;
    for (size_t at = page.find("# TYPE "); at != std::string::npos;
         at = page.find("# TYPE ", at + 1)) {
      names += page.substr(at, page.find('\n', at) - at + 1);
    }
    return names;
  };
  EXPECT_EQ(families(*unpacked), families(metrics));
  for (const std::string& page : {metrics, *unpacked}) {
    Process promtool({"/usr/bin/promtool", "check", "metrics"}, {}, page);
    auto status = promtool.Wait();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 0) << promtool.output();
    EXPECT_EQ(promtool.output(), "");
  }
}

TEST(Exporter, ServesHttpsWithVerifiedCertificate) {
  TempDir dir;
  std::string key = dir.path() + "/key.pem", cert = dir.path() + "/cert.pem";
  Process openssl({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                   "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                   "-subj", "/CN=127.0.0.1", "-addext",
                   "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(openssl.Wait(Seconds(60)), 0) << openssl.output();
  Simulator sim("[[export]]\nid = 1\nduration = \"1h\"\n", {"AKID:SECRET"},
                {"--web.tls-cert-file", cert, "--web.tls-key-file", key});
  ASSERT_EQ(sim.url().rfind("https://", 0), 0u) << sim.url();
  Exporter trusted(Config(sim, Task(1), "", "ca_file = \"" + cert + "\""));
  EXPECT_TRUE(WaitForValue(trusted, "aliyun_sas_export_up", 1, 1))
      << trusted.process().output();
  Exporter untrusted(Config(sim, Task(1)));
  EXPECT_TRUE(WaitForSample(untrusted, ApiErrors("tls"), Exists))
      << untrusted.process().output();
}

TEST(ExporterCommandLine, BadConfigurationIsRefusedWithPositions) {
  TempDir dir;
  std::string config = dir.Write("bad.toml", R"([exporter]
poll_intervall = "60s"

[[account]]
name = "a"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "x"
access_key_secret = "y"

[[task]]
account = "b"
export_id = 1
)");
  Process check({ExporterBinary(), "--config.file", config, "--config.check"});
  ASSERT_EQ(check.Wait(), 1);
  std::string output = check.output();
  EXPECT_THAT(output, HasSubstr(config + ":2:1:"));
  EXPECT_THAT(output, HasSubstr("poll_interval"));
  EXPECT_THAT(output, HasSubstr(config + ":12:"));
  EXPECT_THAT(output, Not(HasSubstr("\"y\"")));

  std::string good = dir.Write("good.toml", R"(
[[account]]
name = "a"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "x"
access_key_secret_env = "MY_SECRET"
)");
  Process ok({ExporterBinary(), "--config.file", good, "--config.check"},
             {"MY_SECRET=s3cr3t"});
  EXPECT_EQ(ok.Wait(), 0) << ok.output();
  Process missing({ExporterBinary(), "--config.file", good, "--config.check"},
                  {"MY_SECRET="});
  EXPECT_EQ(missing.Wait(), 1);
  EXPECT_THAT(missing.output(), HasSubstr("MY_SECRET"));
}

TEST(ExporterCommandLine, VersionHelpAndBadFlags) {
  Process version({ExporterBinary(), "--version"});
  EXPECT_EQ(version.Wait(), 0);
  EXPECT_THAT(version.output(), HasSubstr("aliyun_sas_exporter, version "));
  EXPECT_THAT(version.output(), HasSubstr("branch: "));
  EXPECT_THAT(version.output(), HasSubstr("build date:"));
  EXPECT_THAT(version.output(), HasSubstr("compiler:"));
  Process help({ExporterBinary(), "--help"});
  EXPECT_EQ(help.Wait(), 0);
  EXPECT_THAT(help.output(), HasSubstr("--web.listen-address"));
  Process bad({ExporterBinary(), "--no-such-flag"});
  EXPECT_EQ(bad.Wait(), 2);
  EXPECT_THAT(bad.output(), HasSubstr("unknown flag --no-such-flag"));
}

TEST(SimulatorCommandLine, HelpAndBadFlagsAsTheExporterHasThem) {
  Process help({SimulatorBinary(), "--help"});
  EXPECT_EQ(help.Wait(), 0);
  EXPECT_THAT(help.output(), HasSubstr("--web.listen-address"));
  EXPECT_THAT(help.output(), HasSubstr("--log.level"));
  Process bad({SimulatorBinary(), "--access-key", "a:b", "--no-such-flag"});
  EXPECT_EQ(bad.Wait(), 2);
  EXPECT_THAT(bad.output(), HasSubstr("unknown flag --no-such-flag"));
  Process no_key({SimulatorBinary()});
  EXPECT_EQ(no_key.Wait(), 2);
  EXPECT_THAT(no_key.output(), HasSubstr("--access-key"));
  Process twice(
      {ExporterBinary(), "--log.level=info", "--log.level=debug", "--version"});
  EXPECT_EQ(twice.Wait(), 0) << twice.output();
  Process bad_range(
      {SimulatorBinary(), "--access-key", "a:b", "--web.threads", "3"});
  EXPECT_EQ(bad_range.Wait(), 2);
  EXPECT_THAT(bad_range.output(), HasSubstr("--web.threads"));
}

}  // namespace
}  // namespace sas::testing

namespace sas::testing {
namespace {

std::string ActionSeries(const std::string& metric, const std::string& action,
                         long export_id) {
  return metric + "{account=\"sim\",action=\"" + action + "\",export_id=\"" +
         std::to_string(export_id) + "\",rd_account_id=\"\"";
}

TEST(Exporter, EveryActionIsPolledToCompletionOrFailureWithItsOwnShape) {
  // The same id 5 under two actions is two exports (separate number spaces).
  Simulator sim(R"(
[[export]]
id = 5
duration = "300ms"

[[export]]
id = 5
action = "DescribeVulExportInfo"
duration = "300ms"

[[export]]
id = 6
action = "DescribeWarningExportInfo"
duration = "300ms"

[[export]]
id = 7
action = "DescribeHcExportInfo"
duration = "300ms"

[[export]]
id = 8
action = "DescribeSuspEventExportInfo"
duration = "300ms"
final_status = "failed"

[[export]]
id = 9
action = "DescribeReportExport"
duration = "300ms"

[[export]]
id = 10
action = "DescribeReportExport"
duration = "300ms"
final_status = "failed"
)");
  std::string tasks = Task(5) + Task(5, "action = \"DescribeVulExportInfo\"") +
                      Task(6, "action = \"DescribeWarningExportInfo\"") +
                      Task(7, "action = \"DescribeHcExportInfo\"") +
                      Task(8, "action = \"DescribeSuspEventExportInfo\"") +
                      Task(9, "action = \"DescribeReportExport\"") +
                      Task(10, "action = \"DescribeReportExport\"");
  Exporter exporter(Config(sim, tasks));
  const std::pair<std::string, long> succeed[] = {
      {"DescribeExportInfo", 5},
      {"DescribeVulExportInfo", 5},
      {"DescribeWarningExportInfo", 6},
      {"DescribeHcExportInfo", 7},
      {"DescribeReportExport", 9}};
  const std::pair<std::string, long> fail[] = {
      {"DescribeSuspEventExportInfo", 8}, {"DescribeReportExport", 10}};
  auto finished = [&](const std::string& action, long id,
                      const std::string& status) {
    return WaitUntil([&] {
      std::string metrics = exporter.Metrics();
      return FindSample(metrics,
                        ActionSeries("aliyun_sas_export_status", action, id) +
                            ",status=\"" + status + "\"}") == 1 &&
             FindSample(
                 metrics,
                 ActionSeries("aliyun_sas_export_completed_timestamp_seconds",
                              action, id) +
                     "}")
                 .has_value();
    });
  };
  for (const auto& [action, id] : succeed) {
    EXPECT_TRUE(finished(action, id, "success"))
        << action << " " << id << "\n"
        << exporter.Metrics() << exporter.process().output();
  }
  for (const auto& [action, id] : fail) {
    EXPECT_TRUE(finished(action, id, "failed")) << action << " " << id << "\n"
                                                << exporter.Metrics();
  }
  std::string metrics = exporter.Metrics();
  // Shapes: DescribeReportExport has no progress or counts;
  // DescribeSuspEventExportInfo has no CurrentCount.
  EXPECT_FALSE(
      FindSample(metrics, ActionSeries("aliyun_sas_export_progress_ratio",
                                       "DescribeReportExport", 9) +
                              "}"));
  EXPECT_FALSE(
      FindSample(metrics, ActionSeries("aliyun_sas_export_current_entries",
                                       "DescribeSuspEventExportInfo", 8) +
                              "}"));
  EXPECT_TRUE(
      FindSample(metrics, ActionSeries("aliyun_sas_export_current_entries",
                                       "DescribeHcExportInfo", 7) +
                              "}"));
  // Every status series carries exactly the six states.
  for (const char* state :
       {"pending", "init", "exporting", "success", "failed", "unknown"}) {
    EXPECT_TRUE(FindSample(metrics, ActionSeries("aliyun_sas_export_status",
                                                 "DescribeHcExportInfo", 7) +
                                        ",status=\"" + state + "\"}"))
        << state;
  }
  // The progress API named in the request metrics too.
  EXPECT_THAT(metrics,
              HasSubstr("aliyun_sas_api_requests_total{account=\"sim\","
                        "action=\"DescribeReportExport\"}"));
  ExpectNoSecrets(metrics);
}

TEST(Exporter, SparseInitAnswerStaysUpWithoutMadeUpValues) {
  Simulator sim(R"(
[[export]]
id = 31
stuck_in_init = true
sparse = true
)");
  Exporter exporter(Config(sim, Task(31)));
  ASSERT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 31, 1))
      << exporter.process().output();
  std::string metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, Series("aliyun_sas_export_status", 31) +
                                    ",status=\"init\"}"),
            1);
  EXPECT_FALSE(FindSample(
      metrics, Series("aliyun_sas_export_progress_ratio", 31) + "}"));
  EXPECT_FALSE(
      FindSample(metrics, Series("aliyun_sas_export_total_entries", 31) + "}"));
  EXPECT_FALSE(FindSample(metrics, ApiErrors("bad_response")));
}

TEST(Exporter, A429WithRetryAfterIsThrottlingRetriedAfterTheDelay) {
  Simulator sim(R"(
[simulator]
seed = 7

[[export]]
id = 41
throttle_rate = 0.5
throttle_status = 429
throttle_code = "TooManyRequests"
retry_after = "50ms"
duration = "1h"
)");
  Exporter exporter(Config(sim, Task(41), "max_retries = 5"));
  // Counted as throttling although its code is not a Throttling code.
  ASSERT_TRUE(WaitForSample(exporter, ApiErrors("Throttling"), [](double v) {
    return v >= 2;
  })) << exporter.process().output();
  EXPECT_TRUE(WaitForValue(exporter, "aliyun_sas_export_up", 41, 1));
  EXPECT_FALSE(FindSample(exporter.Metrics(), ApiErrors("TooManyRequests")));
}

}  // namespace
}  // namespace sas::testing
