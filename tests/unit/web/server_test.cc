#include "web/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "support/gzip.h"
#include "util/gzip_member.h"

namespace sas::web {
namespace {

using ::testing::HasSubstr;

class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.telemetry_path = "/custom-metrics";
    server_ = std::make_unique<WebServer>(
        options, WebHandlers{[](bool) {
                               return TextPage(std::string(5000, 'm') + "\n");
                             },
                             [this] { return ready_.load(); }});
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    ASSERT_EQ(server_->bound_addresses().size(), 1u);
    const std::string& address = server_->bound_addresses()[0];
    port_ = std::stoi(address.substr(address.rfind(':') + 1));
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_decompress(false);
    return client;
  }

  std::unique_ptr<WebServer> server_;
  std::atomic<bool> ready_{false};
  int port_ = 0;
};

TEST_F(WebServerTest, ServesMetricsAtTheTelemetryPath) {
  auto client = Client();
  auto res = client.Get("/custom-metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body.size(), 5001u);
}

TEST_F(WebServerTest, GzipsWhenAsked) {
  auto client = Client();
  auto res = client.Get("/custom-metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  EXPECT_LT(res->body.size(), 1000u);
}

// A handler that compresses the page itself (the exporter's cached gzip
// pieces): the body goes out as the handler made it, once, with its
// Content-Encoding; a client that does not accept gzip gets the text.
TEST(WebServer, SendsAPageTheHandlerEncodedWithoutEncodingItAgain) {
  const std::string text = std::string(3000, 'x') + "\n";
  const auto packed = std::make_shared<const std::string>(gzip::Compress(text));
  std::atomic<int> gzip_asked{0};
  WebServer server({{"127.0.0.1:0"}, "/metrics"},
                   {[&](bool accepts_gzip) {
                      if (!accepts_gzip) return TextPage(text);
                      ++gzip_asked;
                      return MetricsPage{packed, true};
                    },
                    [] { return true; }});
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  const std::string& address = server.bound_addresses()[0];
  httplib::Client client("127.0.0.1",
                         std::stoi(address.substr(address.rfind(':') + 1)));
  client.set_decompress(false);
  auto res = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(res->get_header_value("Vary"), "Accept-Encoding");
  EXPECT_EQ(res->body, *packed);
  EXPECT_EQ(testing::Gunzip(res->body), text);
  EXPECT_EQ(gzip_asked, 1);
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->has_header("Content-Encoding"));
  EXPECT_EQ(res->body, text);
  EXPECT_EQ(gzip_asked, 1);
}

TEST_F(WebServerTest, ReadyOnlyWhenTheHandlerSaysSo) {
  auto client = Client();
  auto res = client.Get("/-/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  ready_ = true;
  res = client.Get("/-/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client.Get("/-/healthy");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(WebServerTest, LandingPageLinksEverything) {
  auto client = Client();
  auto res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("href=\"custom-metrics\""));
  EXPECT_THAT(res->body, HasSubstr("href=\"-/healthy\""));
  EXPECT_THAT(res->body, HasSubstr("href=\"-/ready\""));
}

TEST_F(WebServerTest, RejectsOtherMethodsAndPathsClearly) {
  auto client = Client();
  auto res = client.Post("/custom-metrics", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  res = client.Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("/nope"));
}

class TaskApiRoutes : public ::testing::Test {
 protected:
  TaskApiRoutes()
      : server_(
            {{"127.0.0.1:0"}, "/metrics"},
            {[](bool) { return TextPage("m\n"); }, [] { return true; }, nullptr,
             [this](const ApiCall& call) {
               calls_.push_back(call);
               return ApiReply{204, ""};
             }}) {}

  HttpResponse Route(const std::string& method, const std::string& path,
                     const std::string& query = "") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = query;
    return server_.Route(request);
  }

  std::vector<ApiCall> calls_;
  WebServer server_;
};

TEST_F(TaskApiRoutes, HandsOnTheRawPathAndTheDecodedQuery) {
  HttpResponse response =
      Route("DELETE", "/api/v1/tasks/demo%2F7031", "rd_account_id=1%32");
  EXPECT_EQ(response.status, 204);
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].path, "/api/v1/tasks/demo%2F7031");
  EXPECT_EQ(calls_[0].query.at("rd_account_id"), "12");
}

TEST_F(TaskApiRoutes, EveryErrorIsAValidJsonDocument) {
  for (const auto& [method, path, query] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/api/v1/tasks/x\"}{", ""},
           {"PUT", "/api/v1/tasks", ""},
           {"DELETE", "/api/v1/tasks/a", "x=%zz"}}) {
    HttpResponse response = Route(method, path, query);
    EXPECT_GE(response.status, 400) << path;
    EXPECT_EQ(response.content_type, "application/json");
    auto document = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_TRUE(document.is_object()) << response.body;
    EXPECT_TRUE(document["error"].is_string()) << response.body;
  }
  EXPECT_TRUE(calls_.empty());
}

TEST_F(TaskApiRoutes, RefusalsOnTheTaskApiAreJsonToo) {
  std::string error;
  ASSERT_TRUE(server_.Start(&error)) << error;
  const std::string& address = server_.bound_addresses()[0];
  httplib::Client client("127.0.0.1",
                         std::stoi(address.substr(address.rfind(':') + 1)));
  auto res = client.Post("/api/v1/tasks", std::string(70'000, ' '),
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  auto document = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_TRUE(document.is_object()) << res->body;
  EXPECT_THAT(document["error"].get<std::string>(), HasSubstr("64 KiB"));
}

// /-/reload as Prometheus answers it.
HttpResponse ReloadRoute(const WebServer& server, const std::string& method) {
  HttpRequest request;
  request.method = method;
  request.path = "/-/reload";
  return server.Route(request);
}

TEST(ReloadRoute, ForbiddenWithoutTheLifecycleApi) {
  WebServer server({{"127.0.0.1:0"}, "/metrics"},
                   {[](bool) { return TextPage(""); }, [] { return true; }});
  HttpResponse response = ReloadRoute(server, "POST");
  EXPECT_EQ(response.status, 403);
  EXPECT_THAT(response.body, HasSubstr("Lifecycle API is not enabled."));
  EXPECT_THAT(response.body, HasSubstr("--web.enable-lifecycle"));
  EXPECT_EQ(ReloadRoute(server, "GET").status, 405);
}

TEST(ReloadRoute, PostOrPutReloadsAndReportsTheOutcome) {
  int calls = 0;
  bool succeed = true;
  WebHandlers handlers{[](bool) { return TextPage(""); }, [] { return true; }};
  handlers.reload = [&](std::string* error) {
    ++calls;
    if (!succeed) *error = "exporter.toml:3:1: bad";
    return succeed;
  };
  WebServer server({{"127.0.0.1:0"}, "/metrics"}, handlers);
  EXPECT_EQ(ReloadRoute(server, "POST").status, 200);
  EXPECT_EQ(ReloadRoute(server, "PUT").status, 200);
  succeed = false;
  HttpResponse failed = ReloadRoute(server, "POST");
  EXPECT_EQ(failed.status, 500);
  EXPECT_THAT(failed.body,
              HasSubstr("failed to reload config: exporter.toml:3:1: bad"));
  for (const char* method : {"GET", "HEAD", "DELETE"}) {
    HttpResponse refused = ReloadRoute(server, method);
    EXPECT_EQ(refused.status, 405) << method;
    ASSERT_EQ(refused.headers.size(), 1u);
    EXPECT_EQ(refused.headers[0].second, "POST, PUT");
  }
  EXPECT_EQ(calls, 3);
}

TEST(ListenAddress, ParsesTheUsualForms) {
  ListenAddress address;
  std::string error;
  ASSERT_TRUE(ParseListenAddress(":10075", &address, &error));
  EXPECT_EQ(address.host, "");
  EXPECT_EQ(address.port, 10075);
  ASSERT_TRUE(ParseListenAddress("[::1]:0", &address, &error));
  EXPECT_EQ(address.host, "::1");
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:9", &address, &error));
  EXPECT_EQ(address.host, "127.0.0.1");
  EXPECT_FALSE(ParseListenAddress("10075", &address, &error));
  EXPECT_THAT(error, HasSubstr("no port"));
  EXPECT_FALSE(ParseListenAddress("::1:80", &address, &error));
  EXPECT_THAT(error, HasSubstr("brackets"));
  EXPECT_FALSE(ParseListenAddress("host:99999", &address, &error));
  EXPECT_THAT(error, HasSubstr("0 to 65535"));
}

TEST(WebServer, ReportsAnAddressInUse) {
  WebServer first({{"127.0.0.1:0"}, "/metrics"},
                  {[](bool) { return TextPage(""); }, [] { return true; }});
  std::string error;
  ASSERT_TRUE(first.Start(&error)) << error;
  WebServer second({{first.bound_addresses()[0]}, "/metrics"},
                   {[](bool) { return TextPage(""); }, [] { return true; }});
  EXPECT_FALSE(second.Start(&error));
  EXPECT_THAT(error, HasSubstr(first.bound_addresses()[0]));
}

}  // namespace
}  // namespace sas::web
