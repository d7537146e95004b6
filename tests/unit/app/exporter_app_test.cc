// A whole exporter on fakes: configuration and storage in memory, the cloud
// answered by a FakeTransport, time from a FakeClock. Only the listener is
// real (127.0.0.1, a port the OS picks), so a scrape is a real scrape.

#include "app/exporter_app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <sstream>
#include <thread>

#include "aliyun/endpoints.h"
#include "support/counting_nonce_source.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"
#include "support/map_environment.h"
#include "support/memory_file_system.h"
#include "support/raw_http_client.h"
#include "support/wait.h"

namespace sas::app {
namespace {

using testing::ExportInfoBody;
using ::testing::HasSubstr;
using ::testing::Not;

// Every transport the app makes forwards to one FakeTransport.
class ForwardingTransport : public aliyun::HttpTransport {
 public:
  explicit ForwardingTransport(aliyun::HttpTransport& target)
      : target_(target) {}
  aliyun::TransportResult Send(const aliyun::HttpRequest& request) override {
    return target_.Send(request);
  }
  void CancelAll() override {}

 private:
  aliyun::HttpTransport& target_;
};

constexpr const char* kConfig = R"(
[exporter]
poll_interval = "1m"

[[account]]
name = "prod"
region = "cn-shanghai"
[account.credentials]
type = "access_key"
access_key_id = "LTAIexample"
access_key_secret = "not-a-real-secret"

[[task]]
account = "prod"
export_id = 131231
name = "nightly assets"
)";

class ExporterAppTest : public ::testing::Test {
 protected:
  ExporterAppTest() {
    files_.Add("/etc/exporter.toml", kConfig, 0600);
    cloud_.SetHandler([](const aliyun::HttpRequest&) {
      aliyun::TransportResult result;
      result.response.status = 200;
      result.response.body =
          ExportInfoBody(131231, 40, 40, 100, "exporting", "assets.xlsx");
      return result;
    });
  }

  Seams FakeSeams() {
    return Seams{clock_, environment_, files_, nonces_,
                 [this](const aliyun::TransportOptions&) {
                   ++transports_made_;
                   return std::make_unique<ForwardingTransport>(cloud_);
                 }};
  }

  std::unique_ptr<ExporterApp> Build(AppOptions options = {}) {
    config::LoadResult loaded =
        config::LoadConfigFile("/etc/exporter.toml", environment_, files_);
    EXPECT_TRUE(loaded.ok());
    if (!loaded.ok()) return nullptr;
    options.web.listen_addresses = {"127.0.0.1:0"};
    options.storage_path = "/var/lib/exporter";
    std::string error;
    auto app = ExporterApp::Create(*loaded.config, std::move(options),
                                   FakeSeams(), &error);
    EXPECT_NE(app, nullptr) << error;
    return app;
  }

  static int Port(const ExporterApp& app) {
    const std::string& address = app.listen_addresses().at(0);
    return std::stoi(address.substr(address.rfind(':') + 1));
  }

  std::string Scrape(const ExporterApp& app, const std::string& path) {
    testing::RawHttpClient client(Port(app));
    client.Send(testing::GetRequest(path));
    return client.Read().body;
  }

  // Sends one request with a body; returns the status (0 on failure).
  int Send(const ExporterApp& app, const std::string& method,
           const std::string& path, const std::string& body = "") {
    testing::RawHttpClient client(Port(app));
    client.Send(method + " " + path +
                " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
    return client.Read().status;
  }

  // Polls until `done` holds, moving the fake clock a second at a time so
  // that every task's slot comes.
  bool PollUntil(const std::function<bool()>& done) {
    return testing::WaitUntil([&] {
      clock_.Advance(std::chrono::seconds(1));
      return done();
    });
  }

  std::atomic<int> transports_made_{0};

  testing::FakeClock clock_;
  testing::MapEnvironment environment_;
  testing::MemoryFileSystem files_;
  testing::CountingNonceSource nonces_;
  testing::FakeTransport cloud_;
};

TEST_F(ExporterAppTest, PollsOnFakesAndServesTheResult) {
  auto app = Build();
  ASSERT_NE(app, nullptr);
  std::string error;
  ASSERT_TRUE(app->Start(&error)) << error;
  std::string metrics;
  ASSERT_TRUE(testing::WaitUntil([&] {
    metrics = Scrape(*app, "/metrics");
    return metrics.find("aliyun_sas_export_progress_ratio{") !=
           std::string::npos;
  }));
  EXPECT_THAT(metrics, HasSubstr("export_id=\"131231\""));
  EXPECT_THAT(metrics, HasSubstr("} 0.4\n"));
  // The request was signed with the fake clock's time and the fake nonce.
  std::vector<aliyun::HttpRequest> sent = cloud_.requests();
  ASSERT_FALSE(sent.empty());
  bool dated = false;
  for (const auto& [name, value] : sent.front().headers) {
    if (name == "x-acs-date") dated = value == FormatIso8601(clock_.Now());
  }
  EXPECT_TRUE(dated);
  // Secrets stay out of the page.
  EXPECT_THAT(metrics, Not(HasSubstr("not-a-real-secret")));
  EXPECT_THAT(metrics, Not(HasSubstr("SECRETLINK")));
  app->Stop();
  // The lifecycle went to the in-memory disk at stop.
  EXPECT_TRUE(files_.Exists("/var/lib/exporter/state.json"));
}

TEST_F(ExporterAppTest, ChecksAccountsAgainstTheFakeCloud) {
  auto app = Build();
  ASSERT_NE(app, nullptr);
  std::ostringstream table;
  EXPECT_TRUE(app->CheckAccounts(table));
  EXPECT_THAT(table.str(), HasSubstr("ACCOUNT"));
  EXPECT_THAT(table.str(), HasSubstr("export 131231: exporting"));
  EXPECT_THAT(table.str(), Not(HasSubstr("not-a-real-secret")));
}

// Account prod (polled every minute, at `rate` requests per second) with
// tasks 1..tasks.
std::string ProdWithTasks(const std::string& rate, int tasks) {
  std::string config = R"(
[exporter]
poll_interval = "1m"

[[account]]
name = "prod"
region = "cn-shanghai"
max_requests_per_second = )" +
                       rate + R"(
[account.credentials]
type = "access_key"
access_key_id = "LTAIexample"
access_key_secret = "not-a-real-secret"
)";
  for (int id = 1; id <= tasks; ++id) {
    config +=
        "\n[[task]]\naccount = \"prod\"\nexport_id = " + std::to_string(id) +
        "\n";
  }
  return config;
}

// Six tasks a minute against one request per 20 s: the schedule asks for
// twice what the limit allows, and the polls start ever later.
TEST_F(ExporterAppTest, ReportsDemandAboveTheLimitAndHowLatePollsStart) {
  files_.Add("/etc/exporter.toml", ProdWithTasks("0.05", 6), 0600);
  auto app = Build();
  ASSERT_NE(app, nullptr);
  std::string error;
  ASSERT_TRUE(app->Start(&error)) << error;
  const std::string count =
      "aliyun_sas_poll_start_lag_seconds_count{account=\"prod\"} ";
  std::string metrics;
  // The lag is counted when the poll starts, account_up when it ends.
  ASSERT_TRUE(testing::WaitUntil([&] {
    metrics = Scrape(*app, "/metrics");
    return metrics.find(count + "1\n") != std::string::npos &&
           metrics.find("aliyun_sas_account_up{") != std::string::npos;
  })) << metrics;
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_account_demanded_requests_per_"
                                 "second{account=\"prod\"} 0.1\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_account_max_requests_per_second{"
                                 "account=\"prod\"} 0.05\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_account_up{account=\"prod\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_poll_start_lag_seconds_sum{"
                                 "account=\"prod\"} 0\n"));

  // The second task's slot is 10 s in; its token comes at 20 s.
  clock_.Advance(std::chrono::seconds(20));
  ASSERT_TRUE(testing::WaitUntil([&] {
    metrics = Scrape(*app, "/metrics");
    return metrics.find(count + "2\n") != std::string::npos;
  })) << metrics;
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_poll_start_lag_seconds_sum{"
                                 "account=\"prod\"} 10\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_poll_start_lag_seconds_bucket{"
                                 "account=\"prod\",le=\"5\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_poll_start_lag_seconds_bucket{"
                                 "account=\"prod\",le=\"10\"} 2\n"));
  app->Stop();
}

TEST_F(ExporterAppTest, PollsOnlyTheTasksItsShardOwns) {
  files_.Add("/etc/exporter.toml", ProdWithTasks("6", 12), 0600);
  AppOptions options;
  options.sharding = {1, 3};
  auto app = Build(options);
  ASSERT_NE(app, nullptr);
  std::string error;
  ASSERT_TRUE(app->Start(&error)) << error;
  std::string metrics = Scrape(*app, "/metrics");
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_shard_ordinal{shard_"
                                 "ordinal=\"1\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_total_shards 3\n"));
  // A third of the account's API quota.
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_account_max_requests_per_second{"
                                 "account=\"prod\"} 2\n"));
  int owned = 0;
  for (int id = 1; id <= 12; ++id) {
    bool mine = options.sharding.Owns({"prod", id, std::nullopt});
    owned += mine;
    EXPECT_EQ(metrics.find("export_id=\"" + std::to_string(id) + "\"") !=
                  std::string::npos,
              mine)
        << id;
  }
  EXPECT_GT(owned, 0);
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_tasks " +
                                 std::to_string(owned) + "\n"));
  app->Stop();
}

// Two accounts: prod (its region and tasks as given) and other (task 900).
// The cloud answers every export id.
std::string TwoAccounts(
    const std::string& prod_region, const std::vector<long>& prod_tasks,
    const std::string& exporter = "poll_interval = \"1m\"\n") {
  std::string text = "[exporter]\n" + exporter +
                     R"(
[[account]]
name = "prod"
region = ")" + prod_region +
                     R"("
[account.credentials]
type = "access_key"
access_key_id = "LTAIexample"
access_key_secret = "not-a-real-secret"

[[account]]
name = "other"
region = "cn-beijing"
[account.credentials]
type = "access_key"
access_key_id = "LTAIother"
access_key_secret = "not-a-real-secret-either"

[[task]]
account = "other"
export_id = 900
)";
  for (long id : prod_tasks) {
    text +=
        "\n[[task]]\naccount = \"prod\"\nexport_id = " + std::to_string(id) +
        "\n";
  }
  return text;
}

std::string UnixSeconds(WallTime time) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch())
          .count());
}

// The exposition lines of one task.
std::vector<std::string> TaskLines(const std::string& metrics,
                                   const std::string& account, long id) {
  std::vector<std::string> lines;
  std::istringstream in(metrics);
  const std::string needle = "account=\"" + account +
                             "\",action=\"DescribeExportInfo\",export_id=\"" +
                             std::to_string(id) + "\"";
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) lines.push_back(line);
  }
  return lines;
}

std::string UpSeries(const std::string& account, long id) {
  return "aliyun_sas_export_up{account=\"" + account +
         "\",action=\"DescribeExportInfo\",export_id=\"" + std::to_string(id) +
         "\",rd_account_id=\"\"} 1";
}

std::string Refreshes(const std::string& account) {
  return "aliyun_sas_credentials_refreshes_total{account=\"" + account +
         "\",provider=\"access_key\"} ";
}

class ExporterReloadTest : public ExporterAppTest {
 protected:
  ExporterReloadTest() {
    cloud_.SetHandler([](const aliyun::HttpRequest& request) {
      static const std::regex kExportId("ExportId=([0-9]+)");
      std::smatch match;
      std::string text = request.target + " " + request.body;
      long id = std::regex_search(text, match, kExportId)
                    ? std::stol(match[1].str())
                    : 0;
      aliyun::TransportResult result;
      result.response.status = 200;
      result.response.body = ExportInfoBody(id, 40, 40, 100, "exporting");
      return result;
    });
    Write(TwoAccounts("cn-shanghai", {131231, 2}));
  }

  void Write(const std::string& config) {
    files_.Add("/etc/exporter.toml", config);
  }

  // Builds and starts the exporter; waits until every task was polled.
  std::unique_ptr<ExporterApp> Started(AppOptions options = {}) {
    options.config_file = "/etc/exporter.toml";
    auto app = Build(std::move(options));
    std::string error;
    EXPECT_TRUE(app && app->Start(&error)) << error;
    if (!app) return app;
    EXPECT_TRUE(PollUntil([&] {
      std::string metrics = Scrape(*app, "/metrics");
      return metrics.find(UpSeries("prod", 131231)) != std::string::npos &&
             metrics.find(UpSeries("prod", 2)) != std::string::npos &&
             metrics.find(UpSeries("other", 900)) != std::string::npos;
    }));
    return app;
  }

  std::string ReloadGauges(const ExporterApp& app) {
    std::string out;
    std::istringstream in(Scrape(app, "/metrics"));
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("aliyun_sas_exporter_config_last_reload")) {
        out += line + "\n";
      }
    }
    return out;
  }
};

TEST_F(ExporterReloadTest, StartCountsAsASuccessfulLoad) {
  auto app = Started();
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(ReloadGauges(*app),
            "aliyun_sas_exporter_config_last_reload_successful 1\n"
            "aliyun_sas_exporter_config_last_reload_success_timestamp_seconds "
            "1700000000\n");
}

TEST_F(ExporterReloadTest, KeepsStayingTasksDropsRemovedOnesPollsNewOnes) {
  auto app = Started();
  ASSERT_NE(app, nullptr);
  std::string before = Scrape(*app, "/metrics");
  std::vector<std::string> kept = TaskLines(before, "prod", 131231);
  ASSERT_FALSE(kept.empty());
  int transports = transports_made_;
  clock_.Advance(std::chrono::minutes(5));

  Write(TwoAccounts("cn-shanghai", {131231, 3}));
  std::string error;
  ASSERT_TRUE(app->Reload(&error)) << error;
  std::string after = Scrape(*app, "/metrics");
  // Task 2's series went at once; 131231's are as they were (first seen,
  // last progress, values); no account changed, so no new client and no
  // credential fetch.
  EXPECT_THAT(TaskLines(after, "prod", 2), ::testing::IsEmpty());
  EXPECT_EQ(TaskLines(after, "prod", 131231), kept);
  EXPECT_EQ(transports_made_, transports);
  EXPECT_THAT(after, HasSubstr(Refreshes("prod") + "1\n"));
  EXPECT_THAT(after, HasSubstr(Refreshes("other") + "1\n"));
  EXPECT_THAT(ReloadGauges(*app), HasSubstr("success_timestamp_seconds " +
                                            UnixSeconds(clock_.Now()) + "\n"));
  // Task 3 is polled at once.
  std::string metrics;
  ASSERT_TRUE(testing::WaitUntil([&] {
    metrics = Scrape(*app, "/metrics");
    return metrics.find(UpSeries("prod", 3)) != std::string::npos;
  }));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_tasks 3\n"));
}

TEST_F(ExporterReloadTest, RenewsTheChangedAccountOnly) {
  auto app = Started();
  ASSERT_NE(app, nullptr);
  std::vector<std::string> kept =
      TaskLines(Scrape(*app, "/metrics"), "prod", 131231);
  int transports = transports_made_;

  Write(TwoAccounts("ap-southeast-1", {131231, 2}));
  std::string error;
  ASSERT_TRUE(app->Reload(&error)) << error;
  std::string after = Scrape(*app, "/metrics");
  // prod has a new client (one transport) and fetched its credentials
  // again; other kept both.
  EXPECT_EQ(transports_made_, transports + 1);
  EXPECT_THAT(after, HasSubstr(Refreshes("prod") + "2\n"));
  EXPECT_THAT(after, HasSubstr(Refreshes("other") + "1\n"));
  EXPECT_EQ(TaskLines(after, "prod", 131231), kept);
  // prod's next polls go to the new region's endpoint.
  const std::string host = aliyun::SasHostForRegion("ap-southeast-1", false);
  ASSERT_NE(host, aliyun::SasHostForRegion("cn-shanghai", false));
  ASSERT_TRUE(PollUntil([&] {
    for (const aliyun::HttpRequest& request : cloud_.requests()) {
      if (request.endpoint.host == host) return true;
    }
    return false;
  }));
}

TEST_F(ExporterReloadTest, RefusedConfigurationChangesNothing) {
  auto app = Started();
  ASSERT_NE(app, nullptr);
  std::string gauges = ReloadGauges(*app);
  std::vector<std::string> kept =
      TaskLines(Scrape(*app, "/metrics"), "prod", 2);
  int transports = transports_made_;
  clock_.Advance(std::chrono::minutes(1));

  // A task naming no account: refused with the loader's position.
  std::string bad = TwoAccounts("ap-southeast-1", {131231}) +
                    "\n[[task]]\naccount = \"prdo\"\nexport_id = 5\n";
  Write(bad);
  std::string error;
  EXPECT_FALSE(app->Reload(&error));
  EXPECT_THAT(error, HasSubstr("/etc/exporter.toml:29:11: task[3].account"));
  EXPECT_THAT(error, HasSubstr("did you mean \"prod\"?"));
  EXPECT_THAT(error, Not(HasSubstr("not-a-real-secret")));
  std::string metrics = Scrape(*app, "/metrics");
  EXPECT_THAT(
      metrics,
      HasSubstr("aliyun_sas_exporter_config_last_reload_successful 0\n"));
  EXPECT_THAT(ReloadGauges(*app),
              HasSubstr("success_timestamp_seconds 1700000000\n"));
  EXPECT_EQ(TaskLines(metrics, "prod", 2).size(), kept.size());
  EXPECT_EQ(transports_made_, transports);

  // The number of polls under way changes in place.
  Write(TwoAccounts("cn-shanghai", {131231, 2}, "concurrency = 8\n"));
  EXPECT_TRUE(app->Reload(&error)) << error;

  // Credentials that cannot be set up are refused before anything changes.
  Write(TwoAccounts("cn-shanghai", {131231, 2}) +
        "\n[[account]]\nname = \"cli\"\nregion = \"cn-shanghai\"\n"
        "[account.credentials]\ntype = \"cli_profile\"\n"
        "file = \"/nonexistent/config.json\"\n");
  EXPECT_FALSE(app->Reload(&error));
  EXPECT_THAT(error, HasSubstr("cli"));
  EXPECT_EQ(transports_made_, transports);
  EXPECT_THAT(Scrape(*app, "/metrics"), Not(HasSubstr("account=\"cli\"")));

  // The good configuration applies; the gauge comes back to 1.
  Write(TwoAccounts("cn-shanghai", {131231, 2}));
  EXPECT_TRUE(app->Reload(&error)) << error;
  EXPECT_THAT(ReloadGauges(*app), HasSubstr("success_timestamp_seconds " +
                                            UnixSeconds(clock_.Now()) + "\n"));
  EXPECT_THAT(ReloadGauges(*app), HasSubstr("reload_successful 1\n"));
}

TEST_F(ExporterReloadTest, ReloadEndpointNeedsTheLifecycleFlag) {
  auto app = Started();
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(Send(*app, "POST", "/-/reload"), 403);
  app->Stop();

  AppOptions options;
  options.enable_lifecycle = true;
  app = Started(options);
  ASSERT_NE(app, nullptr);
  Write(TwoAccounts("cn-shanghai", {131231}));
  EXPECT_EQ(Send(*app, "GET", "/-/reload"), 405);
  EXPECT_EQ(Send(*app, "POST", "/-/reload"), 200);
  EXPECT_THAT(TaskLines(Scrape(*app, "/metrics"), "prod", 2),
              ::testing::IsEmpty());
  Write("[exporter]\npoll_interval = 5\n");
  EXPECT_EQ(Send(*app, "POST", "/-/reload"), 500);
}

// Reloads from several threads while scrapes, polls and task API writes
// run: every reload applies whole, and the end state is the last one's.
// Run under ThreadSanitizer to check for data races.
TEST_F(ExporterReloadTest, ConcurrentReloadsScrapesPollsAndRegistrations) {
  AppOptions options;
  options.enable_task_api = true;
  options.enable_lifecycle = true;
  auto app = Started(options);
  ASSERT_NE(app, nullptr);
  const std::string configs[] = {
      TwoAccounts("cn-shanghai", {131231, 2}),
      TwoAccounts("ap-southeast-1", {131231, 3}, "poll_interval = \"2s\"\n"),
  };
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        Write(configs[(i + t) % 2]);
        std::string error;
        if (t == 0) {
          if (!app->Reload(&error)) ++failures;
        } else if (Send(*app, "POST", "/-/reload") != 200) {
          ++failures;
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!done) {
      Scrape(*app, "/metrics");
      clock_.Advance(std::chrono::seconds(1));
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; !done; ++i) {
      std::string id = std::to_string(5000 + i % 3);
      Send(*app, "POST", "/api/v1/tasks",
           "{\"account\":\"other\",\"export_id\":" + id + "}");
      Send(*app, "DELETE", "/api/v1/tasks/other/" + id);
    }
  });
  threads[0].join();
  threads[1].join();
  done = true;
  for (size_t i = 2; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(failures, 0);

  Write(configs[1]);
  std::string error;
  ASSERT_TRUE(app->Reload(&error)) << error;
  ASSERT_TRUE(PollUntil([&] {
    std::string metrics = Scrape(*app, "/metrics");
    return metrics.find(UpSeries("prod", 3)) != std::string::npos;
  }));
  std::string metrics = Scrape(*app, "/metrics");
  EXPECT_THAT(TaskLines(metrics, "prod", 2), ::testing::IsEmpty());
  EXPECT_THAT(metrics, HasSubstr(UpSeries("prod", 131231)));
  EXPECT_THAT(metrics, HasSubstr(UpSeries("other", 900)));
  app->Stop();
}

}  // namespace
}  // namespace sas::app
