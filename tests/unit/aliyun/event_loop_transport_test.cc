#include "aliyun/event_loop_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.h"
#include "support/map_environment.h"
#include "support/test_pki.h"
#include "support/wait.h"
#include "util/event_loop.h"

namespace sas::aliyun {
namespace {

using ::sas::testing::MapEnvironment;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// A loopback cpp-httplib server (HTTPS when given a certificate) on a free
// port that records what it receives. Enough worker threads for every
// connection of the tests to be served at once.
class LocalServer {
 public:
  explicit LocalServer(
      std::function<void(httplib::Server&)> configure = nullptr,
      const testing::IssuedCertificate* certificate = nullptr,
      const std::string& address = "127.0.0.1") {
    if (certificate != nullptr) {
      server_ = std::make_unique<httplib::SSLServer>(certificate->cert.c_str(),
                                                     certificate->key.c_str());
    } else {
      server_ = std::make_unique<httplib::Server>();
    }
    server_->new_task_queue = [] { return new httplib::ThreadPool(64); };
    server_->set_pre_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) {
          {
            std::lock_guard lock(mutex_);
            methods_.push_back(req.method);
            targets_.push_back(req.target);
            hosts_.push_back(req.get_header_value("Host"));
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
    server_->set_tcp_nodelay(true);
    server_->set_keep_alive_max_count(1000);
    if (configure) configure(*server_);
    port_ = server_->bind_to_any_port(address);
    if (port_ <= 0) return;
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    testing::WaitUntil([&] { return server_->is_running(); },
                       testing::Seconds(10));
  }
  ~LocalServer() {
    Release();
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  bool listening() const { return port_ > 0; }
  int port() const { return port_; }
  Endpoint endpoint(std::string scheme = "http") const {
    return Endpoint{std::move(scheme), "127.0.0.1", port_};
  }
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
  std::vector<std::string> hosts() {
    std::lock_guard lock(mutex_);
    return hosts_;
  }
  size_t connections() {
    std::lock_guard lock(mutex_);
    return ports_.size();
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  httplib::Server::Handler handler_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable released_;
  bool release_ = false;
  std::vector<std::string> methods_, targets_, hosts_;
  std::set<int> ports_;
};

// A loopback peer that serves its connections with a script:
// `serve(server, fd, index)` for the index-th accepted connection, which is
// closed when serve returns. One connection after the other, or each on a
// thread of its own when `concurrent`.
class RawServer {
 public:
  using Serve = std::function<void(RawServer&, int fd, int index)>;

  explicit RawServer(Serve serve, bool concurrent = false)
      : serve_(std::move(serve)), concurrent_(concurrent) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), length);
    listen(listener_, 128);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawServer() {
    stop_ = true;
    shutdown(listener_, SHUT_RDWR);
    thread_.join();
    for (std::thread& connection : connection_threads_) connection.join();
    close(listener_);
  }

  int port() const { return port_; }
  Endpoint endpoint() const { return Endpoint{"http", "127.0.0.1", port_}; }
  bool stopping() const { return stop_; }
  int accepted() const { return accepted_; }
  int requests() const { return requests_; }
  // Connections served and closed.
  int closed() const { return closed_; }

  // Reads one request (head, and a body of its Content-Length); false when
  // the peer closed first or the server stops.
  bool ReadRequest(int fd, std::string* head = nullptr) {
    std::string data;
    char buffer[4096];
    while (true) {
      size_t end = data.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        size_t at = data.find("Content-Length: ");
        if (at != std::string::npos && at < end) {
          length = std::stoul(data.substr(at + 16));
        }
        if (data.size() >= end + 4 + length) {
          if (head != nullptr) *head = data.substr(0, end + 4);
          ++requests_;
          return true;
        }
      }
      if (!WaitReadable(fd)) return false;
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<size_t>(n));
    }
  }
  // Waits until fd is readable (true) or the server stops (false).
  bool WaitReadable(int fd) {
    pollfd entry{fd, POLLIN, 0};
    while (!stop_) {
      if (poll(&entry, 1, 20) > 0) return true;
    }
    return false;
  }
  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Blocks until the server stops.
  void WaitForStop() {
    while (!stop_) std::this_thread::sleep_for(milliseconds(10));
  }

 private:
  void AcceptLoop() {
    for (int index = 0; !stop_; ++index) {
      int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      if (concurrent_) {
        connection_threads_.emplace_back(
            [this, fd, index] { Handle(fd, index); });
      } else {
        Handle(fd, index);
      }
    }
  }
  void Handle(int fd, int index) {
    serve_(*this, fd, index);
    close(fd);
    ++closed_;
  }

  Serve serve_;
  const bool concurrent_;
  std::vector<std::thread> connection_threads_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> closed_{0};
  std::thread thread_;
};

// Answers every request on each connection with `answer` until the client
// closes.
RawServer::Serve AnswerEach(std::string answer) {
  return [answer](RawServer& server, int fd, int) {
    while (server.ReadRequest(fd) && RawServer::SendAll(fd, answer)) {
    }
  };
}

// Answers the first request of each connection with `answer`, then closes.
RawServer::Serve AnswerOnce(std::string answer) {
  return [answer](RawServer& server, int fd, int) {
    if (server.ReadRequest(fd)) RawServer::SendAll(fd, answer);
  };
}

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

HttpRequest Post(const Endpoint& endpoint, std::string target = "/?a=1") {
  HttpRequest request;
  request.endpoint = endpoint;
  request.target = std::move(target);
  request.headers = {{"accept", "application/json"}};
  return request;
}

TransportOptions Fast() {
  TransportOptions options;
  options.connect_timeout = milliseconds(1000);
  options.request_timeout = milliseconds(1000);
  return options;
}

// The loop runs on its own thread; requests reach the transport through
// Post, as the poller's do, and their answers come back through futures.
class EventLoopTransportTest : public ::testing::Test {
 protected:
  EventLoopTransportTest() : loop_thread_([this] { loop_.Run(); }) {}
  ~EventLoopTransportTest() override {
    OnLoop([this] { transport_.reset(); });
    loop_.Stop();
    loop_thread_.join();
  }

  void Make(TransportOptions options = Fast()) {
    OnLoop([&] { transport_ = MakeEventLoopTransport(loop_, options, env_); });
  }

  // Runs `function` on the loop's thread and waits for it.
  void OnLoop(const std::function<void()>& function) {
    std::promise<void> ran;
    loop_.Post([&] {
      function();
      ran.set_value();
    });
    ran.get_future().wait();
  }

  std::future<TransportResult> SendAsync(HttpRequest request) {
    auto answer = std::make_shared<std::promise<TransportResult>>();
    auto future = answer->get_future();
    loop_.Post([this, answer, request = std::move(request)]() mutable {
      auto inside_send = std::make_shared<bool>(true);
      transport_->Send(std::move(request),
                       [this, answer, inside_send](TransportResult result) {
                         EXPECT_FALSE(*inside_send) << "done ran inside Send";
                         EXPECT_TRUE(loop_.InLoopThread());
                         answer->set_value(std::move(result));
                       });
      *inside_send = false;
    });
    return future;
  }

  static TransportResult Wait(std::future<TransportResult>& future) {
    if (future.wait_for(testing::Scaled(testing::Seconds(30))) !=
        std::future_status::ready) {
      ADD_FAILURE() << "no answer within 30 s";
      return {TransportError::kNone, "no answer", {}};
    }
    return future.get();
  }

  TransportResult Send(HttpRequest request) {
    auto future = SendAsync(std::move(request));
    return Wait(future);
  }

  // Servers that outlive the transport: cpp-httplib's stop() waits out the
  // keep-alive timeout of a connection the client still holds open.
  template <typename... Args>
  LocalServer& AddServer(Args&&... args) {
    servers_.push_back(
        std::make_unique<LocalServer>(std::forward<Args>(args)...));
    return *servers_.back();
  }

  std::vector<std::unique_ptr<LocalServer>> servers_;
  MapEnvironment env_;
  EventLoop loop_;
  std::unique_ptr<AsyncHttpTransport> transport_;
  std::thread loop_thread_;
};

// --- The cases of httplib_transport_test, same outcomes -------------------

TEST_F(EventLoopTransportTest, SendsAndReusesTheConnection) {
  LocalServer& server = AddServer();
  Make();
  for (int i = 0; i < 20; ++i) {
    TransportResult result = Send(Post(server.endpoint()));
    ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
    EXPECT_EQ(result.response.status, 200);
    EXPECT_EQ(result.response.body, R"({"ok":true})");
    EXPECT_EQ(result.response.Header("content-type"), "application/json");
  }
  EXPECT_EQ(server.targets().front(), "/?a=1");
  EXPECT_EQ(server.methods().front(), "POST");
  EXPECT_EQ(server.hosts().front(),
            "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(EventLoopTransportTest, RefusesOversizedBodies) {
  LocalServer& server = AddServer();
  server.SetHandler([](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(5000, 'x'), "application/json");
  });
  TransportOptions options = Fast();
  options.max_body_bytes = 4096;
  Make(options);
  TransportResult result = Send(Post(server.endpoint()));
  EXPECT_EQ(result.error, TransportError::kBodyTooLarge);
  EXPECT_THAT(result.detail, HasSubstr("larger than 4096 bytes"));
}

TEST_F(EventLoopTransportTest, TimesOutASlowAnswer) {
  LocalServer& server = AddServer();
  server.SetHandler([&server](const httplib::Request&, httplib::Response& res) {
    server.Hold(std::chrono::seconds(10));
    res.set_content("{}", "application/json");
  });
  TransportOptions options = Fast();
  options.request_timeout = milliseconds(200);
  Make(options);
  auto started = std::chrono::steady_clock::now();
  TransportResult result = Send(Post(server.endpoint()));
  auto elapsed = std::chrono::steady_clock::now() - started;
  server.Release();
  EXPECT_EQ(result.error, TransportError::kTimeout) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("no answer within 200 ms"));
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, testing::Scaled(testing::Seconds(2)));
}

TEST_F(EventLoopTransportTest, AnUnansweredTlsHandshakeIsATimeout) {
  // A listening socket nobody accepts from: the kernel completes the TCP
  // handshake and the ClientHello is never answered.
  RawServer server([](RawServer& self, int, int) { self.WaitForStop(); });
  TransportOptions options = Fast();
  options.connect_timeout = milliseconds(300);
  Make(options);
  auto started = std::chrono::steady_clock::now();
  TransportResult result =
      Send(Post(Endpoint{"https", "127.0.0.1", server.port()}));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.error, TransportError::kTimeout) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("TLS handshake"));
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, testing::Scaled(testing::Seconds(2)));
}

TEST_F(EventLoopTransportTest, AnAnswerTrickledAHeaderAtATimeTimesOut) {
  // Each header line arrives well within the read timeout; the attempt as a
  // whole must still end by connect_timeout + 2 * request_timeout.
  RawServer server([](RawServer& self, int fd, int) {
    if (!self.ReadRequest(fd)) return;
    bool open = RawServer::SendAll(fd, "HTTP/1.1 200 OK\r\n");
    while (open && !self.stopping()) {
      std::this_thread::sleep_for(milliseconds(50));
      open = RawServer::SendAll(fd, "X-Slow: 1\r\n");
    }
  });
  TransportOptions options = Fast();
  options.connect_timeout = milliseconds(200);
  options.request_timeout = milliseconds(300);
  options.max_header_count = 1000;
  Make(options);
  auto started = std::chrono::steady_clock::now();
  TransportResult result = Send(Post(server.endpoint()));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.error, TransportError::kTimeout) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("not complete within 800 ms"));
  EXPECT_GE(elapsed, milliseconds(750));
  EXPECT_LT(elapsed, testing::Scaled(testing::Seconds(3)));
}

TEST_F(EventLoopTransportTest, RefusesAnswersWithTooManyHeaderFields) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n";
  for (int i = 0; i < 150; ++i) {
    head += "X-Flood: " + std::to_string(i) + "\r\n";
  }
  RawServer server(AnswerOnce(head + "\r\n{}"));
  Make();
  TransportResult result = Send(Post(server.endpoint()));
  EXPECT_EQ(result.error, TransportError::kBodyTooLarge);
  EXPECT_THAT(result.detail, HasSubstr("more than 100 header fields"));
}

TEST_F(EventLoopTransportTest, ReportsARefusedConnection) {
  int port;
  {
    LocalServer closed;
    port = closed.port();
  }
  Make();
  TransportResult result = Send(Post(Endpoint{"http", "127.0.0.1", port}));
  EXPECT_EQ(result.error, TransportError::kConnection) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("refused"));
}

TEST_F(EventLoopTransportTest, CancelAllAbortsARequestInFlight) {
  LocalServer& server = AddServer();
  std::atomic<bool> entered{false};
  server.SetHandler([&](const httplib::Request&, httplib::Response& res) {
    entered = true;
    server.Hold(std::chrono::seconds(10));
    res.set_content("{}", "application/json");
  });
  TransportOptions options = Fast();
  options.request_timeout = std::chrono::seconds(30);
  Make(options);
  auto in_flight = SendAsync(Post(server.endpoint()));
  ASSERT_TRUE(
      testing::WaitUntil([&] { return entered.load(); }, testing::Seconds(10)));
  OnLoop([&] { transport_->CancelAll(); });
  // Completed inside CancelAll.
  ASSERT_EQ(in_flight.wait_for(std::chrono::seconds(0)),
            std::future_status::ready);
  TransportResult result = in_flight.get();
  EXPECT_EQ(result.error, TransportError::kCancelled);
  EXPECT_EQ(result.detail, "shutting down");
  server.Release();
  EXPECT_EQ(Send(Post(server.endpoint())).error, TransportError::kCancelled);
}

TEST_F(EventLoopTransportTest, GoesThroughHttpProxyUnlessNoProxyMatches) {
  LocalServer& proxy = AddServer();
  env_.Set("HTTP_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port()));
  Make();
  TransportResult result =
      Send(Post(Endpoint{"http", "tds.cn-shanghai.aliyuncs.com", 80}, "/?x=1"));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  ASSERT_EQ(proxy.targets().size(), 1u);
  EXPECT_EQ(proxy.targets()[0], "http://tds.cn-shanghai.aliyuncs.com:80/?x=1");
  EXPECT_EQ(proxy.hosts()[0], "tds.cn-shanghai.aliyuncs.com");

  LocalServer& direct = AddServer();
  env_.Set("NO_PROXY", "example.com,127.0.0.1");
  Make();
  result = Send(Post(direct.endpoint()));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(direct.targets().size(), 1u);
  EXPECT_EQ(proxy.targets().size(), 1u);
}

TEST_F(EventLoopTransportTest, TunnelsHttpsThroughHttpsProxy) {
  LocalServer& proxy = AddServer();
  env_.Set("HTTPS_PROXY", "127.0.0.1:" + std::to_string(proxy.port()));
  Make();
  TransportResult result =
      Send(Post(Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443}));
  // The test proxy refuses the tunnel; what matters is that it was asked.
  EXPECT_EQ(result.error, TransportError::kConnection) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("refused the tunnel: status 405"));
  ASSERT_EQ(proxy.methods().size(), 1u);
  EXPECT_EQ(proxy.methods()[0], "CONNECT");
  EXPECT_EQ(proxy.targets()[0], "tds.cn-shanghai.aliyuncs.com:443");
}

// --- Connections -----------------------------------------------------------

TEST_F(EventLoopTransportTest, AnswersFiftyConcurrentRequests) {
  // No answer until all 50 requests are in (or 3 s have passed): all 50
  // Sends run before an answer can make a connection idle. (Not
  // cpp-httplib's server: its listen backlog of 5 delays some of 50
  // simultaneous connections by SYN retransmissions, seconds each.)
  std::mutex mutex;
  std::condition_variable all_in;
  int entered = 0;
  RawServer server(
      [&](RawServer& self, int fd, int) {
        std::string head;
        while (self.ReadRequest(fd, &head)) {
          {
            std::unique_lock lock(mutex);
            if (++entered == 50) all_in.notify_all();
            all_in.wait_for(lock, std::chrono::seconds(3),
                            [&] { return entered >= 50; });
          }
          std::string target = head.substr(5, head.find(' ', 5) - 5);
          RawServer::SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: " +
                                     std::to_string(target.size()) +
                                     "\r\n\r\n" + target);
        }
      },
      /*concurrent=*/true);
  Make();
  std::vector<std::future<TransportResult>> answers;
  for (int i = 0; i < 50; ++i) {
    answers.push_back(
        SendAsync(Post(server.endpoint(), "/" + std::to_string(i))));
  }
  for (int i = 0; i < 50; ++i) {
    TransportResult result = Wait(answers[static_cast<size_t>(i)]);
    ASSERT_EQ(result.error, TransportError::kNone)
        << result.detail << " (request " << i << ")";
    EXPECT_EQ(result.response.body, "/" + std::to_string(i));
  }
  EXPECT_EQ(server.accepted(), 50);
  // All 50 are idle now: the next 50 reuse them.
  answers.clear();
  for (int i = 0; i < 50; ++i) {
    answers.push_back(SendAsync(Post(server.endpoint())));
  }
  for (auto& answer : answers) {
    EXPECT_EQ(Wait(answer).error, TransportError::kNone);
  }
  EXPECT_EQ(server.accepted(), 50);
  EXPECT_EQ(server.requests(), 100);
}

TEST_F(EventLoopTransportTest, ClosesAfterConnectionClose) {
  LocalServer& server =
      AddServer([](httplib::Server& s) { s.set_keep_alive_max_count(1); });
  Make();
  for (int i = 0; i < 3; ++i) {
    TransportResult result = Send(Post(server.endpoint()));
    ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
    EXPECT_EQ(result.response.Header("connection"), "close");
  }
  EXPECT_EQ(server.connections(), 3u);
}

TEST_F(EventLoopTransportTest, ReadsABodyUntilTheConnectionCloses) {
  RawServer server(AnswerOnce("HTTP/1.1 200 OK\r\n\r\nuntil the end"));
  Make();
  for (int i = 0; i < 2; ++i) {
    TransportResult result = Send(Post(server.endpoint()));
    ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
    EXPECT_EQ(result.response.body, "until the end");
  }
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(EventLoopTransportTest, DropsAnIdleConnectionTheServerClosed) {
  // Each connection: one answer, then the server closes it.
  RawServer server(AnswerOnce(kOk));
  Make();
  ASSERT_EQ(Send(Post(server.endpoint())).error, TransportError::kNone);
  ASSERT_TRUE(testing::WaitUntil([&] { return server.closed() == 1; }));
  TransportResult result = Send(Post(server.endpoint()));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(EventLoopTransportTest, ResendsOnceWhenAReusedConnectionFailsEarly) {
  // The first connection answers one request and closes on reading the
  // second; the second connection answers.
  RawServer server([](RawServer& self, int fd, int index) {
    if (!self.ReadRequest(fd)) return;
    if (index == 0) {
      RawServer::SendAll(fd, kOk);
      self.ReadRequest(fd);
      return;
    }
    RawServer::SendAll(fd, kOk);
  });
  Make();
  ASSERT_EQ(Send(Post(server.endpoint())).error, TransportError::kNone);
  TransportResult result = Send(Post(server.endpoint()));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(server.requests(), 3);
}

TEST_F(EventLoopTransportTest, DoesNotResendOnANewConnection) {
  RawServer server([](RawServer& self, int fd, int) { self.ReadRequest(fd); });
  Make();
  TransportResult result = Send(Post(server.endpoint()));
  EXPECT_EQ(result.error, TransportError::kConnection);
  EXPECT_THAT(result.detail, HasSubstr("connection closed before the answer"));
  EXPECT_EQ(server.accepted(), 1);
}

// --- Answers ---------------------------------------------------------------

TEST_F(EventLoopTransportTest, ReadsChunkedAnswersAndKeepsTheConnection) {
  RawServer server(
      AnswerEach("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Type: application/json\r\n\r\n"
                 "4;ext=1\r\n{\"a\"\r\n"
                 "A\r\n:12345678}\r\n"
                 "0\r\nX-Trailer: skipped\r\n\r\n"));
  Make();
  for (int i = 0; i < 3; ++i) {
    TransportResult result = Send(Post(server.endpoint()));
    ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
    EXPECT_EQ(result.response.body, R"({"a":12345678})");
    EXPECT_EQ(result.response.Header("x-trailer"), std::nullopt);
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(EventLoopTransportTest, SkipsInterimAnswers) {
  RawServer server(
      AnswerOnce("HTTP/1.1 100 Continue\r\n\r\n"
                 "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                 "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone"));
  Make();
  TransportResult result = Send(Post(server.endpoint()));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(result.response.status, 201);
  EXPECT_EQ(result.response.body, "done");
  EXPECT_EQ(result.response.Header("link"), std::nullopt);
}

TEST_F(EventLoopTransportTest, AcceptsA8KiBHeaderLineAndRefusesALongerOne) {
  auto answer_with_line = [](size_t length) {
    std::string line = "X-Long: ";
    line += std::string(length - line.size(), 'v');
    return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + line + "\r\n\r\nok";
  };
  RawServer fits(AnswerOnce(answer_with_line(8192)));
  RawServer too_long(AnswerOnce(answer_with_line(8193)));
  Make();
  TransportResult result = Send(Post(fits.endpoint()));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(result.response.Header("x-long")->size(), 8192u - 8u);
  result = Send(Post(too_long.endpoint()));
  EXPECT_EQ(result.error, TransportError::kBodyTooLarge);
  EXPECT_THAT(result.detail, HasSubstr("header line longer than 8192 bytes"));
}

TEST_F(EventLoopTransportTest,
       RefusesAnOversizedBodyAsItsLengthSaysOrAsItsChunksCome) {
  TransportOptions options = Fast();
  options.max_body_bytes = 4096;
  RawServer by_length(
      AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: 4097\r\n\r\n" +
                 std::string(4097, 'x')));
  RawServer by_chunks(
      AnswerOnce("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "800\r\n" +
                 std::string(2048, 'x') +
                 "\r\n"
                 "801\r\n" +
                 std::string(2049, 'x') +
                 "\r\n"
                 "0\r\n\r\n"));
  RawServer until_close(
      AnswerOnce("HTTP/1.1 200 OK\r\n\r\n" + std::string(4097, 'x')));
  Make(options);
  for (RawServer* server : {&by_length, &by_chunks, &until_close}) {
    TransportResult result = Send(Post(server->endpoint()));
    EXPECT_EQ(result.error, TransportError::kBodyTooLarge) << result.detail;
    EXPECT_THAT(result.detail, HasSubstr("larger than 4096 bytes"));
  }
}

TEST_F(EventLoopTransportTest, ReportsATruncatedBody) {
  RawServer server(
      AnswerOnce("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"));
  Make();
  TransportResult result = Send(Post(server.endpoint()));
  EXPECT_EQ(result.error, TransportError::kConnection);
  EXPECT_THAT(result.detail, HasSubstr("after 10 of 100 body bytes"));
}

TEST_F(EventLoopTransportTest, NamesWhatIsWrongWithAMalformedAnswer) {
  struct Case {
    std::string answer;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
       "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 12ab\r\n\r\n",
       "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       "Content-Length out of range"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
       "conflicting Content-Length"},
      {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header field"},
      {"HTTP/1.1 200 OK\r\nX: 1\r\n  folded\r\n\r\n", "obsolete line folding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
       "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "fffffffffffffffffff\r\n",
       "chunk size out of range"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
       "chunk data longer than its size"},
      {"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101 Switching Protocols"},
  };
  Make();
  for (const Case& c : cases) {
    RawServer server(AnswerOnce(c.answer));
    TransportResult result = Send(Post(server.endpoint()));
    EXPECT_EQ(result.error, TransportError::kConnection) << c.answer;
    EXPECT_THAT(result.detail, HasSubstr(c.detail)) << c.answer;
    EXPECT_THAT(result.detail, ::testing::Not(HasSubstr("a=1")));
  }
  // A chunk size that parses but exceeds the limit is a size problem.
  RawServer huge(AnswerOnce(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n"));
  EXPECT_EQ(Send(Post(huge.endpoint())).error, TransportError::kBodyTooLarge);
}

TEST_F(EventLoopTransportTest, ASilentServerTimesOutWithinTheDeadline) {
  RawServer server([](RawServer& self, int fd, int) {
    self.ReadRequest(fd);
    self.WaitForStop();
  });
  TransportOptions options = Fast();
  options.request_timeout = milliseconds(300);
  Make(options);
  auto started = std::chrono::steady_clock::now();
  TransportResult result = Send(Post(server.endpoint()));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.error, TransportError::kTimeout) << result.detail;
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, testing::Scaled(testing::Seconds(1.3)));
}

TEST_F(EventLoopTransportTest, ResolvesHostNamesOffTheLoop) {
  LocalServer& server = AddServer();
  Make();
  TransportResult result =
      Send(Post(Endpoint{"http", "localhost", server.port()}));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(server.hosts().front(),
            "localhost:" + std::to_string(server.port()));
}

TEST_F(EventLoopTransportTest, SendsToIpv6Literals) {
  LocalServer& server = AddServer(nullptr, nullptr, "::1");
  if (!server.listening()) GTEST_SKIP() << "no IPv6 loopback";
  Make();
  TransportResult result = Send(Post(Endpoint{"http", "::1", server.port()}));
  ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
  EXPECT_EQ(server.hosts().front(), "[::1]:" + std::to_string(server.port()));
}

TEST_F(EventLoopTransportTest, DestroyingDropsCallbacksUncalled) {
  LocalServer& server = AddServer();
  std::atomic<bool> entered{false};
  server.SetHandler([&](const httplib::Request&, httplib::Response& res) {
    entered = true;
    server.Hold(std::chrono::seconds(10));
    res.set_content("{}", "application/json");
  });
  Make();
  auto tracker = std::make_shared<int>(0);
  bool first_called = false;
  bool second_called = false;
  OnLoop([&] {
    transport_->Send(Post(server.endpoint()),
                     [&, tracker](TransportResult) { first_called = true; });
  });
  ASSERT_TRUE(
      testing::WaitUntil([&] { return entered.load(); }, testing::Seconds(10)));
  OnLoop([&] {
    transport_->CancelAll();
    EXPECT_TRUE(first_called);  // inside CancelAll
    // Its kCancelled answer is posted; destroying the transport drops it.
    transport_->Send(Post(server.endpoint()),
                     [&, tracker](TransportResult) { second_called = true; });
    transport_.reset();
  });
  OnLoop([] {});  // the round after, where a posted answer would run
  server.Release();
  EXPECT_FALSE(second_called);
  // The posted answer is destroyed once its round ends.
  EXPECT_TRUE(testing::WaitUntil([&] { return tracker.use_count() == 1; }));
}

// --- TLS and proxies ---------------------------------------------------------

class EventLoopTransportTlsTest : public EventLoopTransportTest {
 protected:
  EventLoopTransportTlsTest()
      : ca_(dir_.path(), "Transport Test CA"),
        server_cert_(ca_.Issue("server", "127.0.0.1", 2, /*server=*/true)) {}

  TransportOptions Trusting() {
    TransportOptions options = Fast();
    options.ca_file = ca_.cert();
    return options;
  }

  testing::TempDir dir_;
  testing::TestCertificateAuthority ca_;
  testing::IssuedCertificate server_cert_;
};

TEST_F(EventLoopTransportTlsTest, VerifiesTheServerAgainstTheCaFile) {
  LocalServer& server = AddServer(nullptr, &server_cert_);
  Make(Trusting());
  for (int i = 0; i < 3; ++i) {
    TransportResult result = Send(Post(server.endpoint("https")));
    ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
    EXPECT_EQ(result.response.body, R"({"ok":true})");
  }
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(EventLoopTransportTlsTest, RefusesAnUntrustedCertificate) {
  LocalServer& server = AddServer(nullptr, &server_cert_);
  Make();
  TransportResult result = Send(Post(server.endpoint("https")));
  EXPECT_EQ(result.error, TransportError::kTls) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("certificate verification"));
  EXPECT_TRUE(server.targets().empty());
}

TEST_F(EventLoopTransportTlsTest, RefusesACertificateForAnotherName) {
  // Valid for 127.0.0.1 only; "localhost" resolves (maybe to ::1 first,
  // refused, then 127.0.0.1) and must then fail the name check.
  LocalServer& server = AddServer(nullptr, &server_cert_);
  Make(Trusting());
  TransportResult result =
      Send(Post(Endpoint{"https", "localhost", server.port()}));
  EXPECT_EQ(result.error, TransportError::kTls) << result.detail;
  EXPECT_THAT(result.detail, HasSubstr("mismatch"));
}

TEST_F(EventLoopTransportTlsTest, ReportsAMissingCaFile) {
  TransportOptions options = Trusting();
  options.ca_file = dir_.path() + "/absent.pem";
  LocalServer& server = AddServer(nullptr, &server_cert_);
  Make(options);
  TransportResult result = Send(Post(server.endpoint("https")));
  EXPECT_EQ(result.error, TransportError::kTls);
  EXPECT_THAT(result.detail, HasSubstr("cannot load the CA file"));
}

// A CONNECT proxy: checks the request, opens the tunnel to the address it
// names, and relays until either side closes.
RawServer::Serve ConnectProxy(std::vector<std::string>* heads,
                              std::mutex* mutex) {
  return [heads, mutex](RawServer& self, int client, int) {
    std::string head;
    if (!self.ReadRequest(client, &head)) return;
    {
      std::lock_guard lock(*mutex);
      heads->push_back(head);
    }
    size_t port_at = head.find(':');
    int port = std::stoi(head.substr(port_at + 1));
    int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(upstream, reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) != 0) {
      RawServer::SendAll(client, "HTTP/1.1 502 Bad Gateway\r\n\r\n");
      close(upstream);
      return;
    }
    RawServer::SendAll(client, "HTTP/1.1 200 Connection established\r\n\r\n");
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    char buffer[16384];
    bool open = true;
    while (open && !self.stopping()) {
      if (poll(fds, 2, 20) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if (fds[i].revents == 0) continue;
        ssize_t n = recv(fds[i].fd, buffer, sizeof(buffer), 0);
        open = n > 0 && RawServer::SendAll(fds[1 - i].fd,
                                           {buffer, static_cast<size_t>(n)});
      }
    }
    close(upstream);
  };
}

TEST_F(EventLoopTransportTlsTest, TunnelsThroughAConnectProxyWithCredentials) {
  LocalServer& server = AddServer(nullptr, &server_cert_);
  std::vector<std::string> heads;
  std::mutex mutex;
  RawServer proxy(ConnectProxy(&heads, &mutex));
  env_.Set("HTTPS_PROXY",
           "http://user:pa55@127.0.0.1:" + std::to_string(proxy.port()));
  Make(Trusting());
  for (int i = 0; i < 2; ++i) {
    TransportResult result = Send(Post(server.endpoint("https")));
    ASSERT_EQ(result.error, TransportError::kNone) << result.detail;
    EXPECT_EQ(result.response.body, R"({"ok":true})");
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(heads.size(), 1u);
  std::string authority = "127.0.0.1:" + std::to_string(server.port());
  EXPECT_THAT(heads[0], HasSubstr("CONNECT " + authority + " HTTP/1.1\r\n"));
  EXPECT_THAT(heads[0],
              HasSubstr("Proxy-Authorization: " +
                        testing::BasicAuthorization("user", "pa55") + "\r\n"));
  EXPECT_EQ(server.connections(), 1u);
}

}  // namespace
}  // namespace sas::aliyun
