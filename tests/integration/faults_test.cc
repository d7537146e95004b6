// Upstream faults against the real exporter process: two accounts, each on
// its own simulator. Account "a" (exports 1 and 2) suffers the fault;
// account "b" (export 3) never does. For each fault: the exporter stays up,
// every /metrics scrape during the fault answers within kScrapeBound, the
// affected tasks go up 0 with the fault's error code while the others stay
// up 1, attempts stay within max_retries and the account's rate limit, and
// everything is up again soon after the fault ends.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "support/harness.h"

namespace sas::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The exporter's settings in these tests.
constexpr milliseconds kPollInterval{300};
constexpr milliseconds kRequestTimeout{500};
constexpr int kMaxRetries = 2;
constexpr int kRequestsPerSecond = 40;
// A scrape's answer time, on a loaded 2-core machine with builds running
// beside the test (the issue asks 100 ms; see docs/simulator.md), times
// SAS_TEST_TIME_SCALE for the sanitizer builds.
constexpr milliseconds kScrapeBound{100};
// From the fault's end to up 1: the next poll (one interval), plus one
// attempt cut short by the timeout when the fault ended mid-attempt, plus a
// backoff and slack for the load.
constexpr milliseconds kRecoveryBound =
    kPollInterval + kRequestTimeout + milliseconds(1200);

std::string Scenario(const std::string& extra = "") {
  return "[[export]]\nid = 1\nduration = \"1h\"\n\n"
         "[[export]]\nid = 2\nduration = \"1h\"\n\n"
         "[[export]]\nid = 3\nduration = \"1h\"\n\n" +
         extra;
}

std::string Account(const std::string& name, const std::string& url,
                    const std::string& extra = "",
                    const std::string& credentials =
                        "access_key_id = \"AKID\"\n"
                        "access_key_secret = \"SECRET\"\n") {
  return "[[account]]\nname = \"" + name + "\"\nendpoint = \"" + url +
         "\"\nmax_requests_per_second = " + std::to_string(kRequestsPerSecond) +
         "\n" + extra + "[account.credentials]\n" + credentials + "\n";
}

std::string Config(const std::string& accounts) {
  return "[exporter]\npoll_interval = \"" +
         std::to_string(kPollInterval.count()) + "ms\"\nrequest_timeout = \"" +
         std::to_string(kRequestTimeout.count()) +
         "ms\"\nconnect_timeout = \"500ms\"\nmax_retries = " +
         std::to_string(kMaxRetries) + "\n\n" + accounts +
         "[[task]]\naccount = \"a\"\nexport_id = 1\n\n"
         "[[task]]\naccount = \"a\"\nexport_id = 2\n\n"
         "[[task]]\naccount = \"b\"\nexport_id = 3\n";
}

std::string Up(const std::string& account, int export_id) {
  return "aliyun_sas_export_up{account=\"" + account +
         "\",action=\"DescribeExportInfo\",export_id=\"" +
         std::to_string(export_id) + "\",rd_account_id=\"\"}";
}

std::string Errors(const std::string& code) {
  return "aliyun_sas_api_request_errors_total{account=\"a\","
         "action=\"DescribeExportInfo\",code=\"" +
         code + "\"}";
}

std::string Requests(const std::string& account) {
  return "aliyun_sas_api_requests_total{account=\"" + account +
         "\",action=\"DescribeExportInfo\"}";
}

// A control call to a simulator: POST (add a fault) or DELETE (clear them).
void Control(const std::string& url, const std::string& method,
             const std::string& query = "") {
  httplib::Client client(url);
  client.enable_server_certificate_verification(false);
  std::string path = "/_simulator/faults" + query;
  httplib::Result result = method == "POST"
                               ? client.Post(path.c_str(), "", "text/plain")
                               : client.Delete(path.c_str());
  ASSERT_TRUE(result) << method << " " << path;
  ASSERT_EQ(result->status, 200) << result->body;
}

int ExportRequests(const Simulator& sim, int export_id) {
  auto stats = nlohmann::json::parse(sim.Stats());
  auto count = stats["by_export"].find(std::to_string(export_id));
  return count == stats["by_export"].end() ? 0 : count->get<int>();
}

// Scrapes the exporter, timing each scrape; every scrape is also checked
// for the tasks that must stay up.
class Watch {
 public:
  Watch(const Exporter& exporter, std::vector<std::string> must_stay_up)
      : exporter_(exporter), must_stay_up_(std::move(must_stay_up)) {}

  std::string Scrape() {
    auto started = Clock::now();
    auto [status, body] = exporter_.Get("/metrics");
    auto took =
        std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    EXPECT_EQ(status, 200) << "the exporter stopped answering";
    times_.push_back(took);
    EXPECT_LE(took,
              std::chrono::duration_cast<milliseconds>(Scaled(kScrapeBound)))
        << "scrape " << times_.size();
    for (const std::string& series : must_stay_up_) {
      EXPECT_EQ(FindSample(body, series), 1) << series << " went down";
    }
    return body;
  }

  // Scrapes until `ok` holds for a scrape or `timeout` passes.
  bool Until(const std::function<bool(const std::string&)>& ok,
             Seconds timeout = Seconds(20)) {
    return WaitUntil([&] { return ok(Scrape()); }, timeout);
  }

  // Scrapes for `span`, whatever happens.
  void For(milliseconds span) {
    auto end = Clock::now() + span;
    WaitUntil([&] {
      Scrape();
      return Clock::now() >= end;
    });
  }

  void Report(const char* fault) const {
    std::vector<milliseconds> sorted = times_;
    std::sort(sorted.begin(), sorted.end());
    if (sorted.empty()) return;
    std::printf("[fault %s] %zu scrapes: median %lld ms, max %lld ms\n", fault,
                sorted.size(),
                static_cast<long long>(sorted[sorted.size() / 2].count()),
                static_cast<long long>(sorted.back().count()));
  }

 private:
  const Exporter& exporter_;
  const std::vector<std::string> must_stay_up_;
  std::vector<milliseconds> times_;
};

bool IsUp(const std::string& metrics, const std::string& series) {
  return FindSample(metrics, series) == 1;
}

// Everything up, before the fault.
void WaitAllUp(Exporter& exporter) {
  Watch watch(exporter, {});
  ASSERT_TRUE(watch.Until([](const std::string& m) {
    return IsUp(m, Up("a", 1)) && IsUp(m, Up("a", 2)) && IsUp(m, Up("b", 3));
  })) << exporter.process().output();
}

// During the fault: `affected` goes up 0 and the `errors` series counts; then,
// over `span`, the attempts for export 1 stay within max_retries per poll and
// account a's requests within its rate limit.
void ExpectDown(Watch& watch, Exporter& exporter,
                const std::vector<std::string>& affected,
                const std::string& errors, const Simulator* sim,
                milliseconds span = milliseconds(1500)) {
  ASSERT_TRUE(watch.Until([&](const std::string& m) {
    for (const std::string& series : affected) {
      if (FindSample(m, series) != 0) return false;
    }
    return FindSample(m, errors).value_or(0) > 0;
  })) << errors
      << "\n"
      << exporter.process().output();
  std::string before = watch.Scrape();
  int export_before = sim != nullptr ? ExportRequests(*sim, 1) : 0;
  auto started = Clock::now();
  watch.For(span);
  std::string after = watch.Scrape();
  int export_after = sim != nullptr ? ExportRequests(*sim, 1) : 0;
  double seconds =
      std::chrono::duration<double>(Clock::now() - started).count();
  for (const std::string& series : affected) {
    EXPECT_EQ(FindSample(after, series), 0) << series;
  }
  // At most one poll per interval (plus one already started), each at most
  // 1 + max_retries attempts.
  double polls = seconds * 1000 / kPollInterval.count() + 1;
  if (sim != nullptr) {
    EXPECT_LE(export_after - export_before, polls * (1 + kMaxRetries))
        << "over " << seconds << " s";
  }
  double requests = FindSample(after, Requests("a")).value_or(0) -
                    FindSample(before, Requests("a")).value_or(0);
  EXPECT_LE(requests, kRequestsPerSecond * (seconds + 1)) << seconds << " s";
}

// After the fault: everything up again within kRecoveryBound of `ended`.
void ExpectRecovery(Watch& watch, Exporter& exporter, Clock::time_point ended,
                    const char* fault, milliseconds bound = kRecoveryBound) {
  ASSERT_TRUE(watch.Until([](const std::string& m) {
    return IsUp(m, Up("a", 1)) && IsUp(m, Up("a", 2)) && IsUp(m, Up("b", 3));
  })) << exporter.process().output();
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - ended);
  std::printf("[fault %s] recovered %lld ms after the fault ended\n", fault,
              static_cast<long long>(took.count()));
  EXPECT_LE(took, bound) << fault;
  watch.Report(fault);
  EXPECT_EQ(exporter.Get("/-/healthy").first, 200);
}

struct AnswerFault {
  const char* name;
  std::string query;  // POST /_simulator/faults parameters
  std::string code;   // the exporter's error code
  bool export_only;   // only export 1 (else every call to simulator a)
};

class AnswerFaults : public ::testing::TestWithParam<AnswerFault> {};

TEST_P(AnswerFaults, AffectedTasksDownOthersUpRetriesBoundedRecovers) {
  const AnswerFault& fault = GetParam();
  Simulator a(Scenario()), b(Scenario());
  Exporter exporter(Config(Account("a", a.url()) + Account("b", b.url())));
  std::vector<std::string> stay_up = {Up("b", 3)};
  std::vector<std::string> affected = {Up("a", 1)};
  if (fault.export_only) {
    stay_up.push_back(Up("a", 2));
  } else {
    affected.push_back(Up("a", 2));
  }
  WaitAllUp(exporter);
  Watch during(exporter, stay_up);
  Control(a.url(), "POST", "?" + fault.query);
  ExpectDown(during, exporter, affected, Errors(fault.code), &a);
  Control(a.url(), "DELETE");
  ExpectRecovery(during, exporter, Clock::now(), fault.name);
  EXPECT_EQ(exporter.process().Wait(Seconds(0)), std::nullopt)
      << "the exporter exited";
}

INSTANTIATE_TEST_SUITE_P(
    Faults, AnswerFaults,
    ::testing::Values(
        AnswerFault{"latency", "kind=latency&export_id=1&latency=3s", "timeout",
                    true},
        AnswerFault{"reset", "kind=reset&export_id=1", "connection", true},
        AnswerFault{"truncate", "kind=truncate&export_id=1", "connection",
                    true},
        AnswerFault{"5xx", "kind=error&export_id=1&status=503",
                    "ServiceUnavailable", true},
        AnswerFault{"throttle", "kind=throttle&export_id=1&retry_after=100ms",
                    "Throttling.User", true},
        AnswerFault{"clock_skew", "kind=clock_skew&skew=20m",
                    "InvalidTimeStamp.Expired", false}),
    [](const ::testing::TestParamInfo<AnswerFault>& info) {
      std::string name = info.param.name;
      std::replace(name.begin(), name.end(), '_', 'X');
      return name;
    });

TEST(Faults, FiveHundredBurstOfNAnswersIsRetriedAway) {
  // A burst shorter than the retries: no poll fails, every attempt counted.
  Simulator a(Scenario()), b(Scenario());
  Exporter exporter(Config(Account("a", a.url()) + Account("b", b.url())));
  Watch watch(exporter, {Up("b", 3), Up("a", 2)});
  WaitAllUp(exporter);
  Control(a.url(), "POST",
          "?kind=error&export_id=1&count=2&status=500&code=InternalError");
  ASSERT_TRUE(watch.Until([](const std::string& m) {
    return FindSample(m, Errors("InternalError")) == 2;
  })) << exporter.process().output();
  watch.For(milliseconds(900));
  EXPECT_TRUE(IsUp(watch.Scrape(), Up("a", 1)));
  auto stats = nlohmann::json::parse(a.Stats());
  EXPECT_EQ(stats["by_code"]["InternalError"], 2);
  watch.Report("5xx burst of 2");
}

// The simulator is killed: connections are refused until it is started
// again on the same port, with a fresh state.
TEST(Faults, SimulatorKilledRefusesConnectionsThenRestarts) {
  auto a = std::make_unique<Simulator>(Scenario());
  Simulator b(Scenario());
  int port = a->port();
  Exporter exporter(Config(Account("a", a->url()) + Account("b", b.url())));
  Watch watch(exporter, {Up("b", 3)});
  WaitAllUp(exporter);
  a->process().Signal(SIGKILL);
  ASSERT_TRUE(a->process().Wait().has_value());
  ExpectDown(watch, exporter, {Up("a", 1), Up("a", 2)}, Errors("connection"),
             nullptr);
  a = std::make_unique<Simulator>(
      Scenario(), std::vector<std::string>{"AKID:SECRET"},
      std::vector<std::string>{"--web.listen-address",
                               "127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(a->port(), port);
  ExpectRecovery(watch, exporter, Clock::now(), "killed");
  EXPECT_GT(ExportRequests(*a, 1), 0);
}

TEST(Faults, SimulatorKilledAndRestartedAtOnceIsReconnected) {
  auto a = std::make_unique<Simulator>(Scenario());
  Simulator b(Scenario());
  int port = a->port();
  Exporter exporter(Config(Account("a", a->url()) + Account("b", b.url())));
  Watch watch(exporter, {Up("b", 3)});
  WaitAllUp(exporter);
  a->process().Signal(SIGKILL);
  ASSERT_TRUE(a->process().Wait().has_value());
  a = std::make_unique<Simulator>(
      Scenario(), std::vector<std::string>{"AKID:SECRET"},
      std::vector<std::string>{"--web.listen-address",
                               "127.0.0.1:" + std::to_string(port)});
  auto restarted = Clock::now();
  // The pooled connections to the old process are dead; new ones work.
  ASSERT_TRUE(watch.Until([&](const std::string&) {
    return ExportRequests(*a, 1) > 0 && ExportRequests(*a, 2) > 0;
  }));
  ExpectRecovery(watch, exporter, restarted, "restarted");
}

// TLS: the simulator accepts TCP connections and never answers the
// handshake (nor requests on connections it had already accepted).
TEST(Faults, StalledTlsHandshakeTimesOut) {
  TempDir dir;
  std::string key = dir.path() + "/key.pem", cert = dir.path() + "/cert.pem";
  Process openssl({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                   "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                   "-subj", "/CN=127.0.0.1", "-addext",
                   "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(openssl.Wait(Seconds(60)), 0) << openssl.output();
  Simulator a(Scenario(), {"AKID:SECRET"},
              {"--web.tls-cert-file", cert, "--web.tls-key-file", key});
  Simulator b(Scenario());
  Exporter exporter(
      Config(Account("a", a.url(), "ca_file = \"" + cert + "\"\n") +
             Account("b", b.url())));
  Watch watch(exporter, {Up("b", 3)});
  WaitAllUp(exporter);
  // New connections cannot reach the control endpoint during the stall:
  // it ends by itself.
  constexpr milliseconds kStall{4000};
  Control(a.url(), "POST",
          "?kind=stall&duration=" + std::to_string(kStall.count()) + "ms");
  auto stall_end = Clock::now() + kStall;
  ExpectDown(watch, exporter, {Up("a", 1), Up("a", 2)}, Errors("timeout"),
             nullptr, milliseconds(1000));
  ASSERT_LT(Clock::now(), stall_end) << "the stall ended before the checks";
  ExpectRecovery(watch, exporter, stall_end, "stall");
}

// STS fails for longer than the credentials live: the account's tasks fail
// with "credentials" once they expire, and recover when STS is back.
TEST(Faults, StsOutageLongerThanTheCredentialsLife) {
  Simulator a(Scenario(R"(
[sts]
credential_lifetime = "2s"

[[role]]
arn = "acs:ram::1234567890123456:role/reader"
trusted_principals = ["AKID"]
)"));
  Simulator b(Scenario());
  Exporter exporter(Config(
      Account("a", a.url(), "",
              "type = \"ram_role_arn\"\n"
              "role_arn = \"acs:ram::1234567890123456:role/reader\"\n"
              "access_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n"
              "sts_endpoint = \"" +
                  a.url() + "\"\n") +
      Account("b", b.url())));
  Watch watch(exporter, {Up("b", 3)});
  WaitAllUp(exporter);
  Control(a.url(), "POST", "?kind=sts_unavailable");
  // Polls fail with "credentials" before any request: the code is counted
  // by the refresh errors.
  ExpectDown(watch, exporter, {Up("a", 1), Up("a", 2)},
             "aliyun_sas_credentials_refresh_errors_total{account=\"a\","
             "code=\"ServiceUnavailable\"",
             &a);
  EXPECT_THAT(exporter.process().output(),
              ::testing::HasSubstr("code=credentials"));
  Control(a.url(), "DELETE");
  // Once the credentials expired, failed refreshes are retried at most a
  // quarter poll interval apart (1 s at least), so the account recovers
  // within that second plus the usual bound.
  ExpectRecovery(watch, exporter, Clock::now(), "sts outage",
                 kRecoveryBound + milliseconds(1000));
}

}  // namespace
}  // namespace sas::testing
