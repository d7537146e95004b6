// A whole exporter on fakes: configuration and storage in memory, the cloud
// answered by a FakeTransport, time from a FakeClock. Only the listener is
// real (127.0.0.1, a port the OS picks), so a scrape is a real scrape.

#include "app/exporter_app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

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

  std::string Scrape(const ExporterApp& app, const std::string& path) {
    const std::string& address = app.listen_addresses().at(0);
    testing::RawHttpClient client(
        std::stoi(address.substr(address.rfind(':') + 1)));
    client.Send(testing::GetRequest(path));
    return client.Read().body;
  }

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

// Six tasks a minute against one request per 20 s: the schedule asks for
// twice what the limit allows, and the polls start ever later.
TEST_F(ExporterAppTest, ReportsDemandAboveTheLimitAndHowLatePollsStart) {
  std::string config = R"(
[exporter]
poll_interval = "1m"

[[account]]
name = "prod"
region = "cn-shanghai"
max_requests_per_second = 0.05
[account.credentials]
type = "access_key"
access_key_id = "LTAIexample"
access_key_secret = "not-a-real-secret"
)";
  for (int id = 1; id <= 6; ++id) {
    config +=
        "\n[[task]]\naccount = \"prod\"\nexport_id = " + std::to_string(id) +
        "\n";
  }
  files_.Add("/etc/exporter.toml", config, 0600);
  auto app = Build();
  ASSERT_NE(app, nullptr);
  std::string error;
  ASSERT_TRUE(app->Start(&error)) << error;
  const std::string count =
      "aliyun_sas_poll_start_lag_seconds_count{account=\"prod\"} ";
  std::string metrics;
  ASSERT_TRUE(testing::WaitUntil([&] {
    metrics = Scrape(*app, "/metrics");
    return metrics.find(count + "1\n") != std::string::npos;
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
  std::string config = R"(
[exporter]
poll_interval = "1m"

[[account]]
name = "prod"
region = "cn-shanghai"
max_requests_per_second = 6
[account.credentials]
type = "access_key"
access_key_id = "LTAIexample"
access_key_secret = "not-a-real-secret"
)";
  for (int id = 1; id <= 12; ++id) {
    config +=
        "\n[[task]]\naccount = \"prod\"\nexport_id = " + std::to_string(id) +
        "\n";
  }
  files_.Add("/etc/exporter.toml", config, 0600);
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

}  // namespace
}  // namespace sas::app
