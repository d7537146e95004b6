#include "web/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "util/gzip_member.h"
#include "util/log.h"
#include "web/tls_context.h"

namespace sas::web {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// epoll tags: the wake-up eventfd, then listeners, then connections.
constexpr uint64_t kWakeTag = 0;
constexpr uint64_t kFirstListenerTag = 1;
constexpr uint64_t kFirstConnectionTag = 1 << 20;

// After an answer that closes the connection, what the client still sends
// is read and dropped for this long (and up to this much), so that closing
// with unread data does not reset the connection before the client has
// read the answer.
constexpr milliseconds kLingerTime{2'000};
constexpr size_t kLingerBytes = 1 << 20;

// Bytes read from one connection per wake-up, so one fast client cannot
// monopolise the loop.
constexpr size_t kReadBudget = 64 * 1024;

// Bodies smaller than this are not worth compressing.
constexpr size_t kMinGzipBytes = 256;

// An answer as bytes on the wire.
struct WireResponse {
  std::string head;
  std::shared_ptr<const std::string> body;  // set by Serialize
  bool close = false;
  int status = 200;
};

WireResponse Serialize(HttpResponse response, bool head_only, bool gzip,
                       bool close) {
  WireResponse wire;
  wire.close = close;
  wire.status = response.status;
  std::shared_ptr<const std::string> body =
      response.shared_body
          ? std::move(response.shared_body)
          : std::make_shared<const std::string>(std::move(response.body));
  std::string encoding = std::move(response.content_encoding);
  if (encoding.empty() && response.compressible && gzip &&
      body->size() >= kMinGzipBytes) {
    body = std::make_shared<const std::string>(gzip::Compress(*body));
    encoding = "gzip";
  }
  std::string& head = wire.head;
  head.reserve(256);
  head += "HTTP/1.1 ";
  head += std::to_string(response.status);
  head += ' ';
  head += StatusReason(response.status);
  head += "\r\n";
  if (!response.content_type.empty() && response.status != 204) {
    head += "Content-Type: " + response.content_type + "\r\n";
  }
  if (response.status != 204) {
    head += "Content-Length: " + std::to_string(body->size()) + "\r\n";
  }
  if (!encoding.empty()) head += "Content-Encoding: " + encoding + "\r\n";
  if (response.compressible) head += "Vary: Accept-Encoding\r\n";
  for (const auto& [name, value] : response.headers) {
    head += name + ": " + value + "\r\n";
  }
  head += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
  head += "\r\n";
  static const auto kEmpty = std::make_shared<const std::string>();
  wire.body = head_only || response.status == 204 ? kEmpty : std::move(body);
  return wire;
}

HttpResponse PlainRefusal(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = std::to_string(status) + " " +
                  std::string(StatusReason(status)) + ": " + message + "\n";
  return response;
}

void CloseFd(int fd) {
  if (fd >= 0) ::close(fd);
}

}  // namespace

std::string_view StatusReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

bool ParseListenAddress(std::string_view text, ListenAddress* out,
                        std::string* error) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    *error = "listen address \"" + std::string(text) +
             "\" has no port: write host:port or :port";
    return false;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') {
      *error = "listen address \"" + std::string(text) +
               "\": unbalanced brackets around the IPv6 address";
      return false;
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    *error = "listen address \"" + std::string(text) +
             "\": put an IPv6 address in brackets, e.g. [::1]:10075";
    return false;
  }
  int value = 0;
  if (port.empty() || port.size() > 5) value = -1;
  for (char c : port) {
    if (c < '0' || c > '9') value = -1;
    if (value >= 0) value = value * 10 + (c - '0');
  }
  if (value < 0 || value > 65535) {
    *error = "listen address \"" + std::string(text) + "\": port \"" +
             std::string(port) + "\" is not a number from 0 to 65535";
    return false;
  }
  out->host = std::string(host);
  out->port = value;
  return true;
}

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandlers handlers)
      : options_(std::move(options)), handlers_(std::move(handlers)) {}
  ~Impl() { Stop(); }

  bool Start(std::vector<std::string>* bound, std::string* error);
  void Stop();
  HttpServerStats Stats() const;

 private:
  enum class State {
    kHandshaking,  // TLS only, before the first request
    kReading,
    kHandling,
    kWriting,
    kLingering,
    kClosed
  };

  struct Connection {
    explicit Connection(const HttpLimits& limits) : parser(limits) {}
    uint64_t tag = 0;
    int fd = -1;
    State state = State::kReading;
    RequestParser parser;
    std::string input;
    WireResponse output;
    size_t written = 0;
    uint32_t armed = 0;
    Clock::time_point request_started;
    Clock::time_point idle_since;
    Clock::time_point write_started;
    Clock::time_point linger_until;
    size_t lingered_bytes = 0;
    // Set while ProcessInput runs for this connection.
    bool processing = false;
    uint64_t answered = 0;            // requests answered on this connection
    std::unique_ptr<TlsSession> tls;  // null for plain HTTP
  };

  // The outcome of moving bytes on a connection, TLS or not.
  enum class Io { kDone, kAgain, kEof, kError };

  struct Job {
    uint64_t tag;
    HttpRequest request;
  };
  struct Completion {
    uint64_t tag;
    WireResponse response;
  };

  bool Listen(const std::string& address, std::string* bound,
              std::string* error);
  void RunLoop();
  void RunHandlerThread();
  void Accept(int listener);
  bool EvictIdle();
  void PauseListeners(bool paused);
  void OnReadable(Connection& connection);
  void Handshake(Connection& connection);
  // Reads some bytes (through TLS when the connection has it, unless it is
  // lingering) or writes some through TLS; *n is how many on kDone.
  // kAgain: wait for readiness.
  Io Receive(Connection& connection, char* buffer, size_t size, size_t* n);
  Io Send(Connection& connection, const char* data, size_t size, size_t* n);
  // One non-blocking attempt to send `bytes` whole, for interim and
  // farewell answers; false when they did not all go.
  bool SendNow(Connection& connection, std::string_view bytes);
  void OnWritable(Connection& connection);
  void ProcessInput(Connection& connection);
  void Dispatch(Connection& connection);
  void Refuse(Connection& connection, int status, const std::string& message);
  // The answer to a request the server refuses itself: the user's refuse
  // handler's, or plain text.
  HttpResponse Refusal(int status, const std::string& message,
                       const HttpRequest& request) const;
  void StartWriting(Connection& connection, WireResponse response);
  void FinishResponse(Connection& connection);
  void Linger(Connection& connection);
  // Closes the socket at once; the Connection itself is freed by Reap, so
  // callers up the stack may still look at it (its state is kClosed).
  void Close(Connection& connection);
  void Reap();
  void Arm(Connection& connection, uint32_t events);
  void TakeCompletions();
  // Closes or answers connections past a deadline; returns the time until
  // the next deadline, for epoll_wait.
  int ExpireDeadlines(Clock::time_point now);
  HttpResponse Handle(const HttpRequest& request);

  const HttpServerOptions options_;
  const HttpHandlers handlers_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<int> listeners_;
  bool listeners_paused_ = false;
  std::atomic<bool> stopping_{false};
  std::thread loop_;
  std::vector<std::thread> handler_threads_;

  // Owned by the loop thread.
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<uint64_t> closed_;
  uint64_t next_tag_ = kFirstConnectionTag;

  std::mutex jobs_mutex_;
  std::condition_variable jobs_ready_;
  // Guarded by jobs_mutex_.
  std::deque<Job> jobs_;
  bool jobs_closed_ = false;

  std::mutex completions_mutex_;
  // Guarded by completions_mutex_.
  std::vector<Completion> completions_;

  std::atomic<uint64_t> accepted_{0}, evicted_{0}, requests_{0}, refused_{0},
      timeouts_{0}, handshake_errors_{0};
  std::atomic<int> open_{0};
};

bool HttpServer::Impl::Listen(const std::string& address, std::string* bound,
                              std::string* error) {
  ListenAddress parsed;
  if (!ParseListenAddress(address, &parsed, error)) return false;
  std::vector<std::string> hosts;
  if (parsed.host.empty()) {
    hosts = {"::", "0.0.0.0"};  // dual-stack first, IPv4-only fallback
  } else {
    hosts = {parsed.host};
  }
  std::string last_error = "no usable address";
  for (const std::string& host : hosts) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string port = std::to_string(parsed.port);
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
        rc != 0) {
      last_error = gai_strerror(rc);
      continue;
    }
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
      int fd =
          socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 ai->ai_protocol);
      if (fd < 0) {
        last_error = std::strerror(errno);
        continue;
      }
      int yes = 1, no = 0;
      // SO_REUSEADDR only, never SO_REUSEPORT: a second exporter on the same
      // port must fail, not share it silently.
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      if (ai->ai_family == AF_INET6 && parsed.host.empty()) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof(no));
      }
      if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
          listen(fd, SOMAXCONN) != 0) {
        last_error = std::strerror(errno);
        CloseFd(fd);
        continue;
      }
      sockaddr_storage local{};
      socklen_t length = sizeof(local);
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
      int bound_port =
          local.ss_family == AF_INET6
              ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
              : ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
      std::string shown = ai->ai_family == AF_INET6 ? "[" + host + "]" : host;
      *bound = shown + ":" + std::to_string(bound_port);
      listeners_.push_back(fd);
      freeaddrinfo(found);
      return true;
    }
    freeaddrinfo(found);
  }
  *error = "cannot listen on " + address + ": " + last_error;
  return false;
}

bool HttpServer::Impl::Start(std::vector<std::string>* bound,
                             std::string* error) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    *error =
        std::string("cannot create the event loop: ") + std::strerror(errno);
    Stop();
    return false;
  }
  for (const std::string& address : options_.listen_addresses) {
    std::string shown;
    if (!Listen(address, &shown, error)) {
      Stop();
      bound->clear();
      return false;
    }
    bound->push_back(shown);
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  for (size_t i = 0; i < listeners_.size(); ++i) {
    event.data.u64 = kFirstListenerTag + i;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listeners_[i], &event);
  }
  int threads = std::max(1, options_.handler_threads);
  for (int i = 0; i < threads; ++i) {
    handler_threads_.emplace_back([this] { RunHandlerThread(); });
  }
  loop_ = std::thread([this] { RunLoop(); });
  return true;
}

void HttpServer::Impl::Stop() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
  if (loop_.joinable()) loop_.join();
  {
    std::lock_guard lock(jobs_mutex_);
    jobs_closed_ = true;
    jobs_.clear();
  }
  jobs_ready_.notify_all();
  for (std::thread& thread : handler_threads_) thread.join();
  handler_threads_.clear();
  for (auto& [tag, connection] : connections_) {
    if (connection->state != State::kClosed) CloseFd(connection->fd);
  }
  closed_.clear();
  connections_.clear();
  open_ = 0;
  for (int fd : listeners_) CloseFd(fd);
  listeners_.clear();
  CloseFd(wake_fd_);
  CloseFd(epoll_fd_);
  wake_fd_ = epoll_fd_ = -1;
}

HttpServerStats HttpServer::Impl::Stats() const {
  HttpServerStats stats;
  stats.connections_accepted = accepted_;
  stats.connections_evicted = evicted_;
  stats.requests = requests_;
  stats.refused = refused_;
  stats.timeouts = timeouts_;
  stats.tls_handshake_errors = handshake_errors_;
  stats.open_connections = open_;
  return stats;
}

void HttpServer::Impl::RunLoop() {
  std::array<epoll_event, 64> events;
  int timeout_ms = 1000;
  while (!stopping_) {
    int n = epoll_wait(epoll_fd_, events.data(),
                       static_cast<int>(events.size()), timeout_ms);
    if (n < 0 && errno != EINTR) {
      log::Error("The web server's event loop failed",
                 {{"err", std::strerror(errno)}});
      break;
    }
    for (int i = 0; i < n && !stopping_; ++i) {
      uint64_t tag = events[i].data.u64;
      uint32_t what = events[i].events;
      if (tag == kWakeTag) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
        TakeCompletions();
      } else if (tag < kFirstConnectionTag) {
        Accept(listeners_[tag - kFirstListenerTag]);
      } else {
        auto it = connections_.find(tag);
        if (it == connections_.end()) continue;
        Connection& connection = *it->second;
        if (connection.state == State::kHandling &&
            (what & (EPOLLHUP | EPOLLERR))) {
          Close(connection);  // the answer could not be delivered anyway
          continue;
        }
        if (connection.state == State::kHandshaking) {
          Handshake(connection);
          continue;
        }
        if (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) OnReadable(connection);
        if (what & EPOLLOUT) OnWritable(connection);
      }
    }
    Reap();
    timeout_ms = ExpireDeadlines(Clock::now());
    Reap();
  }
}

void HttpServer::Impl::RunHandlerThread() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_ready_.wait(lock, [this] { return jobs_closed_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    const HttpRequest& request = job.request;
    WireResponse response =
        Serialize(Handle(request), request.method == "HEAD",
                  request.AcceptsGzip(), !request.KeepAlive() || stopping_);
    {
      std::lock_guard lock(completions_mutex_);
      completions_.push_back({job.tag, std::move(response)});
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
}

HttpResponse HttpServer::Impl::Handle(const HttpRequest& request) {
  try {
    return handlers_.handle(request);
  } catch (const std::exception& e) {
    log::Error("Request handler failed", {{"method", request.method},
                                          {"path", request.path},
                                          {"err", e.what()}});
  } catch (...) {
    log::Error("Request handler failed",
               {{"method", request.method}, {"path", request.path}});
  }
  return PlainRefusal(500, "internal error");
}

void HttpServer::Impl::Accept(int listener) {
  Reap();
  while (!stopping_) {
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      // Make room only for a connection that is really waiting.
      pollfd pending{listener, POLLIN, 0};
      if (poll(&pending, 1, 0) <= 0) return;
      if (!EvictIdle()) {
        PauseListeners(true);
        return;
      }
    }
    int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: stop accepting until a connection closes.
        log::Warn("Out of file descriptors; new connections wait",
                  {{"open", std::to_string(connections_.size())}});
        PauseListeners(true);
      }
      return;
    }
    int yes = 1;
    // Headers and body go out in separate segments: without TCP_NODELAY,
    // Nagle and the client's delayed ACK add 40 ms to an answer.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    auto connection = std::make_unique<Connection>(options_.limits);
    connection->fd = fd;
    connection->tag = next_tag_++;
    connection->idle_since = Clock::now();
    if (options_.tls) {
      connection->tls = std::make_unique<TlsSession>(options_.tls(), fd);
      connection->state = State::kHandshaking;
    }
    Connection& added = *connection;
    connections_[added.tag] = std::move(connection);
    ++accepted_;
    open_ = static_cast<int>(connections_.size());
    epoll_event event{};
    event.data.u64 = added.tag;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    Arm(added, EPOLLIN);
  }
}

bool HttpServer::Impl::EvictIdle() {
  Connection* oldest = nullptr;
  for (auto& [tag, connection] : connections_) {
    // A connection that has had no answer yet is not idle: its first
    // request may be on its way (read_header_timeout bounds it).
    if (connection->state == State::kReading && connection->answered > 0 &&
        !connection->parser.InProgress() && connection->input.empty() &&
        (oldest == nullptr || connection->idle_since < oldest->idle_since)) {
      oldest = connection.get();
    }
  }
  if (oldest == nullptr) return false;
  ++evicted_;
  Close(*oldest);
  Reap();
  return true;
}

void HttpServer::Impl::PauseListeners(bool paused) {
  if (paused == listeners_paused_) return;
  listeners_paused_ = paused;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    epoll_event event{};
    event.events = paused ? 0u : static_cast<uint32_t>(EPOLLIN);
    event.data.u64 = kFirstListenerTag + i;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listeners_[i], &event);
  }
}

void HttpServer::Impl::Arm(Connection& connection, uint32_t events) {
  if (connection.armed == events) return;
  connection.armed = events;
  epoll_event event{};
  event.events = events;
  event.data.u64 = connection.tag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
}

void HttpServer::Impl::OnReadable(Connection& connection) {
  std::array<char, 16 * 1024> buffer;
  size_t budget = kReadBudget;
  while (budget > 0) {
    if (connection.state != State::kReading &&
        connection.state != State::kLingering) {
      return;
    }
    size_t n = 0;
    Io io = Receive(connection, buffer.data(), buffer.size(), &n);
    if (io == Io::kAgain) return;
    if (io != Io::kDone) {  // kEof: the client is done: nothing to answer
      Close(connection);
      return;
    }
    budget -= std::min(budget, n);
    if (connection.state == State::kLingering) {
      connection.lingered_bytes += n;
      if (connection.lingered_bytes > kLingerBytes) {
        Close(connection);
        return;
      }
      continue;
    }
    connection.input.append(buffer.data(), n);
    ProcessInput(connection);
  }
}

void HttpServer::Impl::ProcessInput(Connection& connection) {
  if (connection.processing) return;  // the caller up the stack goes on
  connection.processing = true;
  while (connection.state == State::kReading && !connection.input.empty()) {
    bool was_in_progress = connection.parser.InProgress();
    RequestParser::Result result = connection.parser.Parse(&connection.input);
    if (!was_in_progress && connection.parser.InProgress()) {
      connection.request_started = Clock::now();
    }
    if (connection.parser.TakeContinueRequest()) {
      static constexpr std::string_view kContinue =
          "HTTP/1.1 100 Continue\r\n\r\n";
      // Best effort: a client that gets no interim answer sends anyway.
      // Through TLS, a record half sent cannot be taken back: give up.
      if (!SendNow(connection, kContinue) && connection.tls) {
        Close(connection);
        break;
      }
    }
    if (result == RequestParser::Result::kIncomplete) break;
    if (result == RequestParser::Result::kError) {
      Refuse(connection, connection.parser.error().status,
             connection.parser.error().message);
      break;
    }
    Dispatch(connection);
  }
  connection.processing = false;
}

void HttpServer::Impl::Dispatch(Connection& connection) {
  ++requests_;
  HttpRequest& request = connection.parser.request();
  if (handlers_.runs_inline && handlers_.runs_inline(request)) {
    StartWriting(connection,
                 Serialize(Handle(request), request.method == "HEAD",
                           request.AcceptsGzip(), !request.KeepAlive()));
    return;
  }
  connection.state = State::kHandling;
  Arm(connection, 0);
  {
    std::lock_guard lock(jobs_mutex_);
    jobs_.push_back({connection.tag, std::move(request)});
  }
  jobs_ready_.notify_one();
}

void HttpServer::Impl::Refuse(Connection& connection, int status,
                              const std::string& message) {
  ++requests_;
  ++refused_;
  const HttpRequest& request = connection.parser.request();
  log::Debug("Refused a request", {{"status", std::to_string(status)},
                                   {"reason", message},
                                   {"path", request.path}});
  StartWriting(connection, Serialize(Refusal(status, message, request),
                                     request.method == "HEAD", false, true));
}

HttpResponse HttpServer::Impl::Refusal(int status, const std::string& message,
                                       const HttpRequest& request) const {
  HttpResponse response = handlers_.refuse
                              ? handlers_.refuse(status, message, request)
                              : PlainRefusal(status, message);
  response.status = status;
  return response;
}

void HttpServer::Impl::StartWriting(Connection& connection,
                                    WireResponse response) {
  connection.output = std::move(response);
  connection.written = 0;
  connection.state = State::kWriting;
  connection.write_started = Clock::now();
  OnWritable(connection);
}

void HttpServer::Impl::OnWritable(Connection& connection) {
  if (connection.state != State::kWriting) return;
  WireResponse& out = connection.output;
  const std::string& body = *out.body;
  const size_t total = out.head.size() + body.size();
  while (connection.written < total && connection.tls) {
    const std::string& part =
        connection.written < out.head.size() ? out.head : body;
    size_t offset = connection.written < out.head.size()
                        ? connection.written
                        : connection.written - out.head.size();
    size_t n = 0;
    Io io = Send(connection, part.data() + offset, part.size() - offset, &n);
    if (io == Io::kAgain) return;
    if (io != Io::kDone) {
      Close(connection);
      return;
    }
    connection.written += n;
  }
  while (connection.written < total) {
    iovec parts[2];
    int count = 0;
    size_t done = connection.written;
    if (done < out.head.size()) {
      parts[count++] = {out.head.data() + done, out.head.size() - done};
      done = 0;
    } else {
      done -= out.head.size();
    }
    if (!body.empty()) {
      // sendmsg only reads it.
      parts[count++] = {const_cast<char*>(body.data()) + done,
                        body.size() - done};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = sendmsg(connection.fd, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        Arm(connection, EPOLLOUT);
        return;
      }
      Close(connection);
      return;
    }
    connection.written += static_cast<size_t>(n);
  }
  FinishResponse(connection);
}

void HttpServer::Impl::FinishResponse(Connection& connection) {
  if (connection.output.close || stopping_) {
    Linger(connection);
    return;
  }
  connection.output = WireResponse();
  ++connection.answered;
  connection.parser.Reset();
  connection.state = State::kReading;
  connection.idle_since = Clock::now();
  Arm(connection, EPOLLIN);
  if (!connection.input.empty()) ProcessInput(connection);
}

void HttpServer::Impl::Handshake(Connection& connection) {
  switch (connection.tls->Handshake()) {
    case TlsStatus::kDone:
      connection.state = State::kReading;
      Arm(connection, EPOLLIN);
      // The first request may have come with the handshake's last flight.
      OnReadable(connection);
      return;
    case TlsStatus::kWantRead:
      Arm(connection, EPOLLIN);
      return;
    case TlsStatus::kWantWrite:
      Arm(connection, EPOLLOUT);
      return;
    case TlsStatus::kClosed:
    case TlsStatus::kError:
      ++handshake_errors_;
      log::Debug("TLS handshake failed",
                 {{"err", connection.tls->error().empty()
                              ? "the client closed the connection"
                              : connection.tls->error()}});
      Close(connection);
      return;
  }
}

HttpServer::Impl::Io HttpServer::Impl::Receive(Connection& connection,
                                               char* buffer, size_t size,
                                               size_t* n) {
  // A lingering connection's bytes are dropped unread, TLS or not.
  if (connection.tls && connection.state != State::kLingering) {
    switch (connection.tls->Read(buffer, size, n)) {
      case TlsStatus::kDone:
        return Io::kDone;
      case TlsStatus::kWantRead:
      case TlsStatus::kWantWrite:  // renegotiation is off: never in practice
        return Io::kAgain;
      case TlsStatus::kClosed:
        return Io::kEof;
      case TlsStatus::kError:
        log::Debug("TLS read failed", {{"err", connection.tls->error()}});
        return Io::kError;
    }
  }
  while (true) {
    ssize_t got = recv(connection.fd, buffer, size, 0);
    if (got > 0) {
      *n = static_cast<size_t>(got);
      return Io::kDone;
    }
    if (got == 0) return Io::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kAgain;
    return Io::kError;
  }
}

HttpServer::Impl::Io HttpServer::Impl::Send(Connection& connection,
                                            const char* data, size_t size,
                                            size_t* n) {
  switch (connection.tls->Write(data, size, n)) {
    case TlsStatus::kDone:
      return Io::kDone;
    case TlsStatus::kWantRead:
    case TlsStatus::kWantWrite:
      Arm(connection, EPOLLOUT);
      return Io::kAgain;
    case TlsStatus::kClosed:
      return Io::kEof;
    case TlsStatus::kError:
      log::Debug("TLS write failed", {{"err", connection.tls->error()}});
      return Io::kError;
  }
  return Io::kError;
}

bool HttpServer::Impl::SendNow(Connection& connection, std::string_view bytes) {
  if (!connection.tls) {
    ssize_t n = send(connection.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return n == static_cast<ssize_t>(bytes.size());
  }
  size_t sent = 0;
  while (sent < bytes.size()) {
    size_t n = 0;
    if (connection.tls->Write(bytes.data() + sent, bytes.size() - sent, &n) !=
        TlsStatus::kDone) {
      return false;
    }
    sent += n;
  }
  return true;
}

void HttpServer::Impl::Linger(Connection& connection) {
  if (connection.tls) connection.tls->Shutdown();
  shutdown(connection.fd, SHUT_WR);
  connection.state = State::kLingering;
  connection.input.clear();
  connection.linger_until = Clock::now() + kLingerTime;
  Arm(connection, EPOLLIN);
}

void HttpServer::Impl::Close(Connection& connection) {
  if (connection.state == State::kClosed) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.fd, nullptr);
  connection.tls.reset();
  CloseFd(connection.fd);
  connection.fd = -1;
  connection.state = State::kClosed;
  closed_.push_back(connection.tag);
}

void HttpServer::Impl::Reap() {
  if (closed_.empty()) return;
  for (uint64_t tag : closed_) connections_.erase(tag);
  closed_.clear();
  open_ = static_cast<int>(connections_.size());
  if (listeners_paused_ &&
      static_cast<int>(connections_.size()) < options_.max_connections) {
    PauseListeners(false);
  }
}

void HttpServer::Impl::TakeCompletions() {
  std::vector<Completion> done;
  {
    std::lock_guard lock(completions_mutex_);
    done.swap(completions_);
  }
  for (Completion& completion : done) {
    auto it = connections_.find(completion.tag);
    if (it == connections_.end()) continue;
    StartWriting(*it->second, std::move(completion.response));
  }
}

int HttpServer::Impl::ExpireDeadlines(Clock::time_point now) {
  Clock::time_point next = now + milliseconds(1000);
  std::vector<Connection*> timed_out, idle_expired, lingered;
  bool any_idle = false;
  for (auto& [tag, connection_ptr] : connections_) {
    Connection& connection = *connection_ptr;
    Clock::time_point deadline = Clock::time_point::max();
    switch (connection.state) {
      case State::kHandshaking:
        deadline = connection.idle_since + options_.read_header_timeout;
        if (deadline <= now) idle_expired.push_back(&connection);
        break;
      case State::kReading:
        if (connection.parser.InProgress()) {
          deadline =
              connection.request_started + (connection.parser.ReadingHead()
                                                ? options_.read_header_timeout
                                                : options_.read_timeout);
          if (deadline <= now) timed_out.push_back(&connection);
        } else if (connection.answered == 0) {
          deadline = connection.idle_since + options_.read_header_timeout;
          if (deadline <= now) idle_expired.push_back(&connection);
        } else {
          any_idle = true;
          deadline = connection.idle_since + options_.idle_timeout;
          if (deadline <= now) idle_expired.push_back(&connection);
        }
        break;
      case State::kWriting:
        deadline = connection.write_started + options_.write_timeout;
        if (deadline <= now) timed_out.push_back(&connection);
        break;
      case State::kLingering:
        deadline = connection.linger_until;
        if (deadline <= now) lingered.push_back(&connection);
        break;
      case State::kHandling:
      case State::kClosed:
        break;
    }
    if (deadline > now && deadline < next) next = deadline;
  }
  for (Connection* connection : timed_out) {
    ++timeouts_;
    if (connection->state == State::kReading) {
      // Best effort: one non-blocking write of the 408, then close.
      WireResponse wire =
          Serialize(Refusal(408, "the request took too long to arrive",
                            connection->parser.request()),
                    false, false, true);
      SendNow(*connection, wire.head + *wire.body);
    }
    Close(*connection);
  }
  for (Connection* connection : idle_expired) Close(*connection);
  for (Connection* connection : lingered) Close(*connection);
  if (listeners_paused_ && any_idle) PauseListeners(false);
  auto wait = std::chrono::duration_cast<milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<int64_t>(wait + 1, 1, 1000));
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandlers handlers)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handlers))) {}

HttpServer::~HttpServer() { Stop(); }

bool HttpServer::Start(std::string* error) {
  return impl_->Start(&bound_addresses_, error);
}

void HttpServer::Stop() { impl_->Stop(); }

HttpServerStats HttpServer::Stats() const { return impl_->Stats(); }

}  // namespace sas::web
