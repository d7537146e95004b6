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

}  // namespace
}  // namespace sas::app
