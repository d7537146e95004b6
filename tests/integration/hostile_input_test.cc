// Clients that misbehave, against the real exporter: it stays up, answers
// health, readiness and metrics within a second, and its memory stays flat.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/gzip.h"
#include "support/harness.h"
#include "support/raw_http_client.h"

namespace sas::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using SteadyClock = std::chrono::steady_clock;

std::string Config(const Simulator& sim) {
  return "[exporter]\npoll_interval = \"300ms\"\n\n[[account]]\nname = "
         "\"sim\"\nendpoint = \"" +
         sim.url() +
         "\"\nmax_requests_per_second = 100\n[account.credentials]\n"
         "access_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n\n"
         "[[task]]\naccount = \"sim\"\nexport_id = 1\n";
}

class HostileClients : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_ =
        std::make_unique<Simulator>("[[export]]\nid = 1\nduration = \"1h\"\n");
    storage_ = dir_.path() + "/data";
    exporter_ = std::make_unique<Exporter>(
        Config(*sim_), std::vector<std::string>{},
        std::vector<std::string>{"--web.enable-task-api", "--storage.path",
                                 storage_});
    ASSERT_TRUE(
        WaitUntil([&] { return exporter_->Get("/-/ready").first == 200; }));
  }

  RawHttpClient::Answer Ask(const std::string& request,
                            milliseconds within = milliseconds(5'000)) {
    RawHttpClient client(exporter_->port());
    EXPECT_TRUE(client.Send(request));
    return client.Read(within);
  }

  TempDir dir_;
  std::string storage_;
  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(HostileClients, ManyRangesGetTheWholePageOnce) {
  std::string page = exporter_->Metrics();
  long before = ResidentKib(exporter_->process().pid());
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 400; ++i) ranges += ",0-";
  for (int i = 0; i < 5; ++i) {
    RawHttpClient::Answer answer = Ask(
        "GET /metrics HTTP/1.1\r\nHost: t\r\nRange: " + ranges + "\r\n\r\n");
    EXPECT_EQ(answer.status, 200);
    EXPECT_LT(answer.body.size(), page.size() * 2);
    EXPECT_THAT(answer.head, Not(HasSubstr("multipart")));
  }
  EXPECT_LT(ResidentKib(exporter_->process().pid()) - before, 50 * 1024);
}

TEST_F(HostileClients, IdleAndTricklingConnectionsDoNotStarveScrapes) {
  std::vector<std::unique_ptr<RawHttpClient>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawHttpClient>(exporter_->port()));
    ASSERT_TRUE(idle.back()->Send(GetRequest("/-/healthy")));
    ASSERT_EQ(idle.back()->Read().status, 200);
  }
  std::vector<std::unique_ptr<RawHttpClient>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(std::make_unique<RawHttpClient>(exporter_->port()));
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    std::string request = GetRequest("/metrics");
    for (size_t i = 0; i < request.size() && !stop; ++i) {
      for (auto& client : slow) client->Send(request.substr(i, 1));
      for (int wait = 0; wait < 10 && !stop; ++wait) {
        std::this_thread::sleep_for(milliseconds(100));  // a byte a second
      }
    }
  });
  for (int round = 0; round < 3; ++round) {
    for (const char* path : {"/-/healthy", "/-/ready", "/metrics"}) {
      auto start = SteadyClock::now();
      RawHttpClient::Answer answer = Ask(GetRequest(path), milliseconds(1'000));
      EXPECT_EQ(answer.status, 200) << path;
      EXPECT_LT(SteadyClock::now() - start, milliseconds(1'000)) << path;
    }
  }
  // The trickling clients are cut off by the header deadline.
  EXPECT_EQ(slow.front()->Read(milliseconds(10'000)).status, 408);
  stop = true;
  trickle.join();
}

TEST_F(HostileClients, BodiesOverTheLimitAreRefusedWhateverTheEncoding) {
  long before = ResidentKib(exporter_->process().pid());
  {
    // 10 MB chunked: refused while it arrives.
    RawHttpClient client(exporter_->port());
    ASSERT_TRUE(client.Send(
        "POST /api/v1/tasks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/json\r\n\r\n"));
    std::atomic<bool> stop{false};
    std::thread sender([&] {
      std::string chunk = "10000\r\n" + std::string(65536, ' ') + "\r\n";
      for (int i = 0; i < 160 && !stop; ++i) {
        if (!client.Send(chunk)) break;
      }
    });
    RawHttpClient::Answer answer = client.Read(milliseconds(10'000));
    stop = true;
    sender.join();
    EXPECT_EQ(answer.status, 413);
    EXPECT_TRUE(nlohmann::json::parse(answer.body, nullptr, false).is_object())
        << answer.body;
  }
  // A gzip bomb: 10 KB that inflates to 10 MB.
  std::string bomb = Gzip(std::string(10'000'000, ' '));
  RawHttpClient::Answer answer =
      Ask("POST /api/v1/tasks HTTP/1.1\r\nContent-Encoding: gzip\r\n"
          "Content-Length: " +
          std::to_string(bomb.size()) + "\r\n\r\n" + bomb);
  EXPECT_EQ(answer.status, 413);
  // Deep nesting, compressed: refused by size long before parsing.
  std::string nested = Gzip(std::string(30'000'000, '['));
  answer =
      Ask("POST /api/v1/tasks HTTP/1.1\r\nContent-Encoding: gzip\r\n"
          "Content-Length: " +
          std::to_string(nested.size()) + "\r\n\r\n" + nested);
  EXPECT_EQ(answer.status, 413);
  EXPECT_LT(ResidentKib(exporter_->process().pid()) - before, 50 * 1024);
  EXPECT_EQ(exporter_->Get("/-/healthy").first, 200);
}

TEST_F(HostileClients, TooManyHeaderFieldsAre431) {
  RawHttpClient client(exporter_->port());
  std::string request = "GET /metrics HTTP/1.1\r\n";
  for (int i = 0; i < 5'000; ++i) request += "X-Flood: 1\r\n";
  client.Send(request);
  EXPECT_EQ(client.Read().status, 431);
  EXPECT_EQ(exporter_->Get("/-/healthy").first, 200);
}

TEST_F(HostileClients, TaskApiPathsAreSplitBeforeDecodingAndErrorsAreJson) {
  // A task whose account contains a slash cannot exist; the encoded slash
  // must not reach demo/7031 either.
  RawHttpClient::Answer answer =
      Ask("DELETE /api/v1/tasks/sim%2F1 HTTP/1.1\r\n\r\n");
  EXPECT_GE(answer.status, 400);
  EXPECT_TRUE(nlohmann::json::parse(answer.body, nullptr, false).is_object());
  EXPECT_EQ(exporter_->Get("/api/v1/tasks").first, 200);
  answer = Ask("DELETE /api/v1/tasks/%FF%FE/1 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(answer.status, 400) << answer.body;
  EXPECT_TRUE(nlohmann::json::parse(answer.body, nullptr, false).is_object())
      << answer.body;
  answer = Ask("GET /api/v1/tasks/x\"}{ HTTP/1.1\r\n\r\n");
  EXPECT_GE(answer.status, 400);
  EXPECT_TRUE(nlohmann::json::parse(answer.body, nullptr, false).is_object())
      << answer.body;
  // Nothing raw reached the log.
  EXPECT_THAT(exporter_->process().output(), Not(HasSubstr("\xFF")));
}

}  // namespace
}  // namespace sas::testing
