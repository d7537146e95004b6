#include "web/health_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "web/http_server.h"

namespace sas::web {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A server whose /-/healthy answers `status`, on 127.0.0.1 and a free port.
class HealthCheckTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& address) {
    HttpServerOptions options;
    options.listen_addresses = {address};
    HttpHandlers handlers;
    handlers.handle = [this](const HttpRequest& request) {
      HttpResponse response;
      response.status = request.path == "/-/healthy" ? status_.load() : 404;
      return response;
    };
    server_ = std::make_unique<HttpServer>(options, handlers);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    const std::string& bound = server_->bound_addresses().at(0);
    port_ = bound.substr(bound.rfind(':') + 1);
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> status_{200};
  std::string port_;
};

TEST_F(HealthCheckTest, HealthyOn200) {
  StartServer("127.0.0.1:0");
  HealthCheckResult result = CheckHealth("127.0.0.1:" + port_, 5s);
  EXPECT_TRUE(result.healthy) << result.message;
  EXPECT_EQ(result.message,
            "GET http://127.0.0.1:" + port_ + "/-/healthy: 200");
}

TEST_F(HealthCheckTest, AnEveryInterfaceAddressIsReachedThroughLoopback) {
  StartServer(":0");
  EXPECT_TRUE(CheckHealth(":" + port_, 5s).healthy);
  EXPECT_TRUE(CheckHealth("0.0.0.0:" + port_, 5s).healthy);
}

TEST_F(HealthCheckTest, IPv6Loopback) {
  StartServer("[::1]:0");
  HealthCheckResult result = CheckHealth("[::1]:" + port_, 5s);
  EXPECT_TRUE(result.healthy) << result.message;
  EXPECT_THAT(result.message, HasSubstr("http://[::1]:" + port_));
}

TEST_F(HealthCheckTest, UnhealthyOnAnyOtherStatus) {
  StartServer("127.0.0.1:0");
  status_ = 503;
  HealthCheckResult result = CheckHealth("127.0.0.1:" + port_, 5s);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.message, HasSubstr(": 503"));
}

TEST_F(HealthCheckTest, UnhealthyWhenNothingListens) {
  StartServer("127.0.0.1:0");
  server_->Stop();
  HealthCheckResult result = CheckHealth("127.0.0.1:" + port_, 5s);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.message, HasSubstr("GET http://127.0.0.1:" + port_));
}

TEST(HealthCheckAddressTest, RefusesPortZeroAndBadAddresses) {
  HealthCheckResult result = CheckHealth(":0", 1s);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.message, HasSubstr("port 0"));
  result = CheckHealth("localhost", 1s);
  EXPECT_FALSE(result.healthy);
  EXPECT_THAT(result.message, HasSubstr("has no port"));
}

}  // namespace
}  // namespace sas::web
