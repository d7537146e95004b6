#include "aliyun/httplib_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <set>
#include <thread>

#include "support/map_environment.h"
#include "support/wait.h"
#include "util/environment.h"

namespace sas::aliyun {
namespace {

using ::sas::testing::MapEnvironment;

using ::testing::HasSubstr;

// A loopback HTTP server on a free port that records what it receives.
class LocalServer {
 public:
  LocalServer() {
    server_.set_pre_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) {
          {
            std::lock_guard lock(mutex_);
            methods_.push_back(req.method);
            targets_.push_back(req.target);
            ports_.insert(req.remote_port);
          }
          if (req.method == "CONNECT") {
            res.status = 405;
            return httplib::Server::HandlerResponse::Handled;
          }
          if (handler_) {
            handler_(req, res);
          } else {
            res.set_content(R"({"ok":true})", "application/json");
          }
          return httplib::Server::HandlerResponse::Handled;
        });
    server_.set_tcp_nodelay(true);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    testing::WaitUntil([&] { return server_.is_running(); },
                       testing::Seconds(10));
  }
  ~LocalServer() {
    Release();
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  Endpoint endpoint() const { return Endpoint{"http", "127.0.0.1", port_}; }
  void SetHandler(httplib::Server::Handler handler) {
    handler_ = std::move(handler);
  }
  // Blocks a handler until Release() or the deadline.
  void Hold(std::chrono::seconds at_most) {
    std::unique_lock lock(mutex_);
    released_.wait_for(lock, at_most, [this] { return release_; });
  }
  void Release() {
    {
      std::lock_guard lock(mutex_);
      release_ = true;
    }
    released_.notify_all();
  }
  std::vector<std::string> targets() {
    std::lock_guard lock(mutex_);
    return targets_;
  }
  std::vector<std::string> methods() {
    std::lock_guard lock(mutex_);
    return methods_;
  }
  size_t connections() {
    std::lock_guard lock(mutex_);
    return ports_.size();
  }

 private:
  httplib::Server server_;
  httplib::Server::Handler handler_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable released_;
  bool release_ = false;
  std::vector<std::string> methods_, targets_;
  std::set<int> ports_;
};

HttpRequest Post(const Endpoint& endpoint, std::string target = "/?a=1") {
  HttpRequest request;
  request.endpoint = endpoint;
  request.target = std::move(target);
  request.headers = {{"accept", "application/json"}};
  return request;
}

TransportOptions Fast() {
  TransportOptions options;
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.request_timeout = std::chrono::milliseconds(1000);
  return options;
}

TEST(HttplibTransport, SendsAndReusesTheConnection) {
  LocalServer server;
  MapEnvironment env;
  auto transport = MakeHttplibTransport(Fast(), env);
  for (int i = 0; i < 5; ++i) {
    TransportResult result = transport->Send(Post(server.endpoint()));
    ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
    EXPECT_EQ(result.response.status, 200);
    EXPECT_EQ(result.response.body, R"({"ok":true})");
    EXPECT_EQ(result.response.Header("content-type"), "application/json");
  }
  EXPECT_EQ(server.targets().front(), "/?a=1");
  EXPECT_EQ(server.connections(), 1u);
}

TEST(HttplibTransport, RefusesOversizedBodies) {
  LocalServer server;
  server.SetHandler([](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(5000, 'x'), "application/json");
  });
  MapEnvironment env;
  TransportOptions options = Fast();
  options.max_body_bytes = 4096;
  auto transport = MakeHttplibTransport(options, env);
  TransportResult result = transport->Send(Post(server.endpoint()));
  EXPECT_EQ(result.error, TransportError::kBodyTooLarge);
}

TEST(HttplibTransport, TimesOutASlowAnswer) {
  LocalServer server;
  server.SetHandler([&server](const httplib::Request&, httplib::Response& res) {
    server.Hold(std::chrono::seconds(10));
    res.set_content("{}", "application/json");
  });
  MapEnvironment env;
  TransportOptions options = Fast();
  options.request_timeout = std::chrono::milliseconds(200);
  auto transport = MakeHttplibTransport(options, env);
  TransportResult result = transport->Send(Post(server.endpoint()));
  server.Release();
  EXPECT_EQ(result.error, TransportError::kTimeout) << result.detail;
}

TEST(HttplibTransport, AnUnansweredTlsHandshakeIsATimeout) {
  // A listening socket nobody accepts from: the kernel completes the TCP
  // handshake and the ClientHello is never answered.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  ASSERT_EQ(
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  MapEnvironment env;
  TransportOptions options = Fast();
  options.request_timeout = std::chrono::milliseconds(300);
  auto transport = MakeHttplibTransport(options, env);
  TransportResult result = transport->Send(
      Post(Endpoint{"https", "127.0.0.1", ntohs(address.sin_port)}));
  close(listener);
  EXPECT_EQ(result.error, TransportError::kTimeout) << result.detail;
}

// A loopback peer that answers each connection with `head`, then writes
// `trickle` every 50 ms until the client goes away or the server stops.
class RawAnswerServer {
 public:
  RawAnswerServer(std::string head, std::string trickle)
      : head_(std::move(head)), trickle_(std::move(trickle)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), length);
    listen(listener_, 8);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawAnswerServer() {
    stop_ = true;
    shutdown(listener_, SHUT_RDWR);
    thread_.join();
    close(listener_);
  }
  Endpoint endpoint() const { return Endpoint{"http", "127.0.0.1", port_}; }

 private:
  void Serve() {
    int connection = accept(listener_, nullptr, nullptr);
    if (connection < 0) return;
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(connection, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      request.append(buffer, static_cast<size_t>(n));
    }
    bool open = send(connection, head_.data(), head_.size(), MSG_NOSIGNAL) >= 0;
    while (open && !stop_ && !trickle_.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      open =
          send(connection, trickle_.data(), trickle_.size(), MSG_NOSIGNAL) >= 0;
    }
    close(connection);
  }

  const std::string head_, trickle_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(HttplibTransport, AnAnswerTrickledAHeaderAtATimeTimesOut) {
  // Each header line arrives well within the read timeout; the attempt as a
  // whole must still end by connect_timeout + 2 * request_timeout.
  RawAnswerServer server("HTTP/1.1 200 OK\r\n", "X-Slow: 1\r\n");
  MapEnvironment env;
  TransportOptions options = Fast();
  options.connect_timeout = std::chrono::milliseconds(200);
  options.request_timeout = std::chrono::milliseconds(300);
  auto transport = MakeHttplibTransport(options, env);
  auto started = std::chrono::steady_clock::now();
  TransportResult result = transport->Send(Post(server.endpoint()));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.error, TransportError::kTimeout) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("not complete within 800 ms"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(750));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(HttplibTransport, RefusesAnswersWithTooManyHeaderFields) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n";
  for (int i = 0; i < 150; ++i)
    head += "X-Flood: " + std::to_string(i) + "\r\n";
  RawAnswerServer server(head + "\r\n{}", "");
  MapEnvironment env;
  auto transport = MakeHttplibTransport(Fast(), env);
  TransportResult result = transport->Send(Post(server.endpoint()));
  EXPECT_EQ(result.error, TransportError::kBodyTooLarge);
  EXPECT_THAT(result.detail, HasSubstr("more than 100 header fields"));
}

TEST(HttplibTransport, ReportsARefusedConnection) {
  int port;
  {
    LocalServer closed;
    port = closed.port();
  }
  MapEnvironment env;
  auto transport = MakeHttplibTransport(Fast(), env);
  TransportResult result =
      transport->Send(Post(Endpoint{"http", "127.0.0.1", port}));
  EXPECT_EQ(result.error, TransportError::kConnection) << result.detail;
}

TEST(HttplibTransport, CancelAllAbortsARequestInFlight) {
  LocalServer server;
  std::atomic<bool> entered{false};
  server.SetHandler([&](const httplib::Request&, httplib::Response& res) {
    entered = true;
    server.Hold(std::chrono::seconds(10));
    res.set_content("{}", "application/json");
  });
  MapEnvironment env;
  TransportOptions options = Fast();
  options.request_timeout = std::chrono::seconds(30);
  auto transport = MakeHttplibTransport(options, env);
  TransportResult result;
  std::thread caller(
      [&] { result = transport->Send(Post(server.endpoint())); });
  testing::WaitUntil([&] { return entered.load(); }, testing::Seconds(10));
  auto started = std::chrono::steady_clock::now();
  transport->CancelAll();
  caller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            std::chrono::seconds(2));
  EXPECT_EQ(result.error, TransportError::kCancelled);
  server.Release();
  EXPECT_EQ(transport->Send(Post(server.endpoint())).error,
            TransportError::kCancelled);
}

TEST(HttplibTransport, GoesThroughHttpProxyUnlessNoProxyMatches) {
  LocalServer proxy;
  MapEnvironment env(
      {{"HTTP_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port())}});
  auto transport = MakeHttplibTransport(Fast(), env);
  TransportResult result = transport->Send(
      Post(Endpoint{"http", "tds.cn-shanghai.aliyuncs.com", 80}, "/?x=1"));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  ASSERT_EQ(proxy.targets().size(), 1u);
  EXPECT_EQ(proxy.targets()[0], "http://tds.cn-shanghai.aliyuncs.com:80/?x=1");

  LocalServer direct;
  env.Set("NO_PROXY", "example.com,127.0.0.1");
  auto bypassing = MakeHttplibTransport(Fast(), env);
  result = bypassing->Send(Post(direct.endpoint()));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(direct.targets().size(), 1u);
  EXPECT_EQ(proxy.targets().size(), 1u);
}

TEST(HttplibTransport, TunnelsHttpsThroughHttpsProxy) {
  LocalServer proxy;
  MapEnvironment env(
      {{"HTTPS_PROXY", "127.0.0.1:" + std::to_string(proxy.port())}});
  auto transport = MakeHttplibTransport(Fast(), env);
  TransportResult result = transport->Send(
      Post(Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443}));
  // The test proxy refuses the tunnel; what matters is that it was asked.
  EXPECT_NE(result.error, TransportError::kNone);
  ASSERT_EQ(proxy.methods().size(), 1u);
  EXPECT_EQ(proxy.methods()[0], "CONNECT");
  EXPECT_EQ(proxy.targets()[0], "tds.cn-shanghai.aliyuncs.com:443");
}

TEST(ProxyFor, ReadsTheUsualVariables) {
  MapEnvironment env({{"https_proxy", "http://user:pa55@proxy.corp:3128/"},
                      {"HTTP_PROXY", "proxy.corp:8080"},
                      {"no_proxy", ".internal, metadata,*.svc"}});
  ProxySettings https = ProxyFor("https", "tds.aliyuncs.com", env);
  EXPECT_EQ(https.host, "proxy.corp");
  EXPECT_EQ(https.port, 3128);
  EXPECT_EQ(https.username, "user");
  EXPECT_EQ(https.password, "pa55");
  EXPECT_EQ(ProxyFor("http", "tds.aliyuncs.com", env).port, 8080);
  EXPECT_EQ(ProxyFor("https", "a.internal", env).host, "");
  EXPECT_EQ(ProxyFor("https", "metadata", env).host, "");
  EXPECT_EQ(ProxyFor("https", "notinternal", env).host, "proxy.corp");
  MapEnvironment all({{"HTTPS_PROXY", "proxy:1"}, {"NO_PROXY", "*"}});
  EXPECT_EQ(ProxyFor("https", "anything", all).host, "");
  MapEnvironment none;
  EXPECT_EQ(ProxyFor("https", "anything", none).host, "");
}

}  // namespace
}  // namespace sas::aliyun
