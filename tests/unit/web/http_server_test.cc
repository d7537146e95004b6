#include "web/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/raw_http_client.h"
#include "support/wait.h"

namespace sas::web {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;

using RawClient = testing::RawHttpClient;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    options.listen_addresses = {"127.0.0.1:0"};
    HttpHandlers handlers;
    handlers.handle = [this](const HttpRequest& request) {
      ++handled_;
      HttpResponse response;
      if (request.path == "/page") {
        response.body = page_;
        response.compressible = true;
      } else if (request.path == "/echo") {
        response.body = request.body;
      } else if (request.path == "/block") {
        while (!unblock_) std::this_thread::yield();
        response.body = "unblocked";
      } else {
        response.status = 404;
      }
      return response;
    };
    handlers.runs_inline = [](const HttpRequest& request) {
      return request.path == "/health";
    };
    server_ = std::make_unique<HttpServer>(options, handlers);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    const std::string& address = server_->bound_addresses().at(0);
    port_ = std::stoi(address.substr(address.rfind(':') + 1));
  }

  void TearDown() override {
    unblock_ = true;
    if (server_) server_->Stop();
  }

  std::string Get(const std::string& path) { return testing::GetRequest(path); }

  std::string page_ = std::string(20'000, 'p');
  std::atomic<int> handled_{0};
  std::atomic<bool> unblock_{false};
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, AnswersKeepAliveAndPipelinedRequestsInOrder) {
  StartServer();
  RawClient client(port_);
  ASSERT_TRUE(client.Send(Get("/page") + Get("/health") + Get("/page")));
  for (int i = 0; i < 3; ++i) {
    RawClient::Answer answer = client.Read();
    ASSERT_EQ(answer.status, i == 1 ? 404 : 200) << i;
    if (i != 1) {
      EXPECT_EQ(answer.body, page_);
    }
    EXPECT_THAT(answer.head, HasSubstr("Connection: keep-alive"));
  }
}

TEST_F(HttpServerTest, HeadSendsTheFieldsOnly) {
  StartServer();
  RawClient client(port_);
  ASSERT_TRUE(client.Send("HEAD /page HTTP/1.1\r\n\r\n" + Get("/page")));
  RawClient::Answer head = client.Read(milliseconds(5'000), true);
  EXPECT_EQ(head.status, 200);
  // The length of the GET answer, and no body before the next answer.
  EXPECT_THAT(head.head, HasSubstr("Content-Length: 20000"));
  RawClient::Answer get = client.Read();
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, page_);
}

TEST_F(HttpServerTest, IgnoresRangesAndNeverAnswersMoreThanThePage) {
  StartServer();
  RawClient client(port_);
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 500; ++i) ranges += ",0-";
  ASSERT_TRUE(
      client.Send("GET /page HTTP/1.1\r\nRange: " + ranges + "\r\n\r\n"));
  RawClient::Answer answer = client.Read();
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, page_);
  EXPECT_THAT(answer.head, ::testing::Not(HasSubstr("Content-Range")));
}

TEST_F(HttpServerTest, GzipsWhenAskedAndOnlyThen) {
  StartServer();
  RawClient client(port_);
  ASSERT_TRUE(
      client.Send("GET /page HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n"
                  "GET /page HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n"
                  "\r\n"));
  RawClient::Answer packed = client.Read();
  EXPECT_THAT(packed.head, HasSubstr("Content-Encoding: gzip"));
  EXPECT_LT(packed.body.size(), 1'000u);
  RawClient::Answer plain = client.Read();
  EXPECT_THAT(plain.head, ::testing::Not(HasSubstr("Content-Encoding")));
  EXPECT_EQ(plain.body.size(), page_.size());
}

TEST_F(HttpServerTest, RefusesAHugeChunkedBodyWhileItIsStillArriving) {
  StartServer();
  RawClient client(port_);
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk = "10000\r\n" + std::string(65536, 'x') + "\r\n";
  // Up to 200 MB; the server answers long before and stops reading.
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    for (int i = 0; i < 3'200 && !stop; ++i) {
      if (!client.Send(chunk)) break;
    }
  });
  RawClient::Answer answer = client.Read(milliseconds(10'000));
  stop = true;
  EXPECT_EQ(answer.status, 413);
  EXPECT_THAT(answer.body, HasSubstr("64 KiB"));
  EXPECT_THAT(answer.head, HasSubstr("Connection: close"));
  sender.join();
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, RefusesHalfAMillionHeaderFieldsEarly) {
  StartServer();
  RawClient client(port_);
  std::string fields = "GET /page HTTP/1.1\r\n";
  for (int i = 0; i < 2'000; ++i) fields += "X-A: b\r\n";
  ASSERT_TRUE(client.Send(fields));
  RawClient::Answer answer = client.Read();
  EXPECT_EQ(answer.status, 431);
  EXPECT_TRUE(client.ClosedWithin(milliseconds(5'000)));
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, AnswersExpectContinue) {
  StartServer();
  RawClient client(port_);
  ASSERT_TRUE(client.Send(
      "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: "
      "5\r\n\r\n"));
  // The interim answer arrives before the body is sent.
  RawClient::Answer none = client.Read(milliseconds(200));
  EXPECT_EQ(none.status, 0);
  ASSERT_TRUE(client.Send("hello"));
  RawClient::Answer answer = client.Read();
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "hello");
  EXPECT_EQ(client.interim_answers(), 1);
}

TEST_F(HttpServerTest, SlowAndIdleClientsDoNotStarveOthers) {
  HttpServerOptions options;
  options.read_header_timeout = milliseconds(1'500);
  options.handler_threads = 2;
  StartServer(options);
  // Eight idle keep-alive connections, each after one request.
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(idle.back()->Send(Get("/health")));
    ASSERT_EQ(idle.back()->Read().status, 404);
  }
  // Fifty connections sending a request one byte at a time.
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(slow.back()->connected());
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    std::string request = Get("/page");
    for (size_t i = 0; i < request.size() && !stop; ++i) {
      for (auto& client : slow) client->Send(request.substr(i, 1));
      std::this_thread::sleep_for(milliseconds(100));  // the attack's pace
    }
  });
  for (const char* path : {"/health", "/page", "/health", "/page"}) {
    RawClient client(port_);
    auto start = SteadyClock::now();
    ASSERT_TRUE(client.Send(Get(path)));
    RawClient::Answer answer = client.Read(milliseconds(1'000));
    EXPECT_NE(answer.status, 0) << path << " not answered within 1 s";
    EXPECT_LT(SteadyClock::now() - start, milliseconds(1'000));
  }
  // The trickling requests run out of time: 408 and closed.
  RawClient::Answer timed_out = slow.front()->Read(milliseconds(5'000));
  EXPECT_EQ(timed_out.status, 408);
  EXPECT_TRUE(slow.front()->ClosedWithin(milliseconds(5'000)));
  stop = true;
  trickle.join();
  EXPECT_GE(server_->Stats().timeouts, 1u);
}

TEST_F(HttpServerTest, ClosesTheLongestIdleConnectionToAdmitANewOne) {
  HttpServerOptions options;
  options.max_connections = 3;
  StartServer(options);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(idle.back()->Send(Get("/health")));
    ASSERT_EQ(idle.back()->Read().status, 404);
  }
  RawClient fourth(port_);
  ASSERT_TRUE(fourth.Send(Get("/page")));
  EXPECT_EQ(fourth.Read().status, 200);
  EXPECT_TRUE(idle.front()->ClosedWithin(milliseconds(2'000)));
  EXPECT_EQ(server_->Stats().connections_evicted, 1u);
  EXPECT_LE(server_->Stats().open_connections, 3);
}

TEST_F(HttpServerTest, AtTheCapWithNoIdleConnectionNewOnesWait) {
  HttpServerOptions options;
  options.max_connections = 2;
  options.read_header_timeout = milliseconds(800);
  StartServer(options);
  // Two requests in progress: nothing to evict.
  RawClient first(port_), second(port_);
  ASSERT_TRUE(first.Send("GET /pa"));
  ASSERT_TRUE(second.Send("GET /pa"));
  ASSERT_TRUE(
      testing::WaitUntil([&] { return server_->Stats().open_connections >= 2; },
                         testing::Seconds(2)));
  RawClient third(port_);  // the kernel queues it
  ASSERT_TRUE(third.Send(Get("/page")));
  // Served once the half-sent requests time out.
  RawClient::Answer answer = third.Read(milliseconds(5'000));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(first.Read().status, 408);
}

TEST_F(HttpServerTest, HealthIsAnsweredWhileEveryHandlerThreadIsBusy) {
  HttpServerOptions options;
  options.handler_threads = 1;
  StartServer(options);
  RawClient busy(port_);
  ASSERT_TRUE(busy.Send(Get("/block")));
  RawClient health(port_);
  ASSERT_TRUE(health.Send(Get("/health")));
  EXPECT_EQ(health.Read(milliseconds(1'000)).status, 404);
  unblock_ = true;
  EXPECT_EQ(busy.Read().body, "unblocked");
}

TEST_F(HttpServerTest, ClosesIdleConnectionsAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = milliseconds(300);
  StartServer(options);
  RawClient client(port_);
  ASSERT_TRUE(client.Send(Get("/health")));
  ASSERT_EQ(client.Read().status, 404);
  EXPECT_TRUE(client.ClosedWithin(milliseconds(3'000)));
}

TEST(HttpServer, ReportsAnAddressInUse) {
  HttpServerOptions options;
  options.listen_addresses = {"127.0.0.1:0"};
  HttpServer first(options,
                   {[](const HttpRequest&) { return HttpResponse(); }});
  std::string error;
  ASSERT_TRUE(first.Start(&error)) << error;
  options.listen_addresses = {first.bound_addresses()[0]};
  HttpServer second(options,
                    {[](const HttpRequest&) { return HttpResponse(); }});
  EXPECT_FALSE(second.Start(&error));
  EXPECT_THAT(error, HasSubstr(first.bound_addresses()[0]));
}

}  // namespace
}  // namespace sas::web
