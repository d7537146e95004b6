#include "aliyun/event_loop_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aliyun/http_response_parser.h"
#include "aliyun/proxy.h"

namespace sas::aliyun {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The receive buffer's free space before each read: an answer of this size
// arrives in one recv.
constexpr size_t kReadWindow = 64 * 1024;

std::string MillisText(Millis duration) {
  return std::to_string(duration.count()) + " ms";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// "host:port", IPv6 literals in brackets.
std::string HostPort(std::string_view host, int port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out + ":" + std::to_string(port);
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// The address of an IPv4 or IPv6 literal (no brackets), or nullopt for a
// host name.
std::optional<Address> IpLiteral(const std::string& host, int port) {
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in);
    return address;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in6);
    return address;
  }
  return std::nullopt;
}

// The oldest error on this thread's OpenSSL queue, which it then clears.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

// getaddrinfo on a thread of its own, so the loop never blocks on DNS.
// Each answer reaches its callback through EventLoop::Post. Started at the
// first Resolve; the destructor drops queued names and joins the thread
// (after the lookup under way, if any, returns).
class Resolver {
 public:
  using Deliver =
      std::function<void(std::vector<Address> addresses, std::string error)>;

  explicit Resolver(EventLoop& loop) : loop_(loop) {}
  ~Resolver() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // `deliver` runs on the loop's thread: the addresses in the order
  // getaddrinfo gave them, or an error.
  void Resolve(std::string host, int port, Deliver deliver) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back({std::move(host), port, std::move(deliver)});
      if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    }
    wake_.notify_one();
  }

 private:
  struct Job {
    std::string host;
    int port;
    Deliver deliver;
  };

  void Run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      std::vector<Address> addresses;
      std::string error;
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_NUMERICSERV;
      addrinfo* found = nullptr;
      int status = getaddrinfo(
          job.host.c_str(), std::to_string(job.port).c_str(), &hints, &found);
      if (status != 0) {
        error = gai_strerror(status);
      } else {
        for (addrinfo* at = found; at != nullptr; at = at->ai_next) {
          if (at->ai_addrlen > sizeof(sockaddr_storage)) continue;
          Address address;
          std::memcpy(&address.storage, at->ai_addr, at->ai_addrlen);
          address.length = at->ai_addrlen;
          addresses.push_back(address);
        }
        freeaddrinfo(found);
        if (addresses.empty()) error = "no address";
      }
      loop_.Post([deliver = std::move(job.deliver),
                  addresses = std::move(addresses),
                  error = std::move(error)]() mutable {
        deliver(std::move(addresses), std::move(error));
      });
      lock.lock();
    }
  }

  EventLoop& loop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

// A BIO over a non-blocking socket that writes with MSG_NOSIGNAL (OpenSSL's
// own socket BIO write()s, and a peer gone would raise SIGPIPE).
int SocketBioFd(BIO* bio) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
}
int SocketBioWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t n =
      send(SocketBioFd(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}
int SocketBioRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t n = recv(SocketBioFd(bio), data, static_cast<size_t>(size), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(n);
}
long SocketBioCtrl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}
int SocketBioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// The outcome of one read or write.
struct Io {
  enum Status { kDone, kWantRead, kWantWrite, kEof, kError };
  Status status = kDone;
  size_t bytes = 0;
  // kError: what failed, and whether OpenSSL (rather than the socket) did.
  std::string error;
  bool tls_error = false;
};

Io SslFailure(SSL* ssl, int result) {
  int saved_errno = errno;
  switch (SSL_get_error(ssl, result)) {
    case SSL_ERROR_WANT_READ:
      return {Io::kWantRead};
    case SSL_ERROR_WANT_WRITE:
      return {Io::kWantWrite};
    case SSL_ERROR_ZERO_RETURN:
      return {Io::kEof};
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (saved_errno == 0) return {Io::kEof};
        return {Io::kError, 0, std::strerror(saved_errno)};
      }
      [[fallthrough]];
    default:
      return {Io::kError, 0, OpenSslError(), true};
  }
}

class EventLoopTransport : public AsyncHttpTransport {
 public:
  EventLoopTransport(EventLoop& loop, TransportOptions options,
                     const Environment& env)
      : loop_(loop),
        options_(std::move(options)),
        env_(env),
        attempt_limit_(options_.connect_timeout + 2 * options_.request_timeout),
        resolver_(loop) {
    SetUpTls();
  }

  ~EventLoopTransport() override {
    alive_.reset();
    for (auto& [id, exchange] : exchanges_) {
      if (exchange->timer != 0) loop_.Cancel(exchange->timer);
      exchange->connection = nullptr;
    }
    exchanges_.clear();
    for (auto& [raw, connection] : connections_) Release(*connection);
    connections_.clear();
    for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
    if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
    if (bio_method_ != nullptr) BIO_meth_free(bio_method_);
  }

  void Send(HttpRequest request, Done done) override {
    if (cancelled_) {
      PostDone(std::move(done), Cancelled());
      return;
    }
    if (std::string problem = RequestProblem(request); !problem.empty()) {
      PostDone(std::move(done), {TransportError::kConnection, problem, {}});
      return;
    }
    auto owned = std::make_unique<Exchange>();
    Exchange* exchange = owned.get();
    exchange->id = next_exchange_id_++;
    exchange->pool_key = request.endpoint.scheme + "://" +
                         HostPort(request.endpoint.host, request.endpoint.port);
    exchange->request = std::move(request);
    exchange->done = std::move(done);
    exchanges_.emplace(exchange->id, std::move(owned));
    ++in_send_;
    StartAttempt(exchange);
    --in_send_;
  }

  void CancelAll() override {
    cancelled_ = true;
    for (auto& [key, idle] : idle_) {
      for (Connection* connection : idle) Close(connection);
    }
    idle_.clear();
    std::vector<uint64_t> ids;
    ids.reserve(exchanges_.size());
    for (const auto& [id, exchange] : exchanges_) ids.push_back(id);
    std::weak_ptr<char> alive = alive_;
    for (uint64_t id : ids) {
      if (alive.expired()) return;  // a callback destroyed the transport
      auto it = exchanges_.find(id);
      if (it != exchanges_.end()) Complete(it->second.get(), Cancelled());
    }
  }

 private:
  struct Exchange;

  struct Connection {
    enum class Phase {
      kConnecting,
      kProxyWrite,  // sending CONNECT
      kProxyRead,   // reading the proxy's answer to it
      kHandshake,
      kWriting,
      kReading,
      kIdle,
    };
    int fd = -1;
    bool watched = false;
    // EPOLLOUT is among the watched events (EPOLLIN | EPOLLRDHUP always).
    bool want_out = false;
    SSL* ssl = nullptr;
    bool tls_session_saved = false;
    Phase phase = Phase::kConnecting;
    std::string pool_key;
    // Where it connects: the proxy or the endpoint, for messages.
    std::string peer;
    bool through_proxy = false;
    // An http endpoint through a proxy: targets in absolute form.
    bool absolute_targets = false;
    std::string proxy_authorization;
    std::vector<Address> addresses;
    size_t next_address = 0;
    std::string connect_error;
    Exchange* exchange = nullptr;
    // Answers read in full on this connection.
    int answers = 0;
    // out[out_offset, size) is still to be written.
    std::string out;
    size_t out_offset = 0;
    // in[in_begin, in_end) is read and not yet parsed.
    std::string in;
    size_t in_begin = 0;
    size_t in_end = 0;
  };

  struct Exchange {
    uint64_t id = 0;
    HttpRequest request;
    Done done;
    std::string pool_key;
    Connection* connection = nullptr;
    HttpResponseParser parser;
    // Until the request's first byte may be written: resolving,
    // connecting, opening the tunnel, the TLS handshake.
    bool connecting = true;
    bool answer_started = false;
    // The one resend after a reused connection failed: on a new one.
    bool retried = false;
    SteadyClock::time_point attempt_deadline;
    SteadyClock::time_point connect_deadline;
    SteadyClock::time_point last_progress;
    EventLoop::TimerId timer = 0;
    SteadyClock::time_point timer_when;
  };

  static TransportResult Cancelled() {
    return {TransportError::kCancelled, "shutting down", {}};
  }

  // Why a request cannot be written (the message quotes none of it).
  static std::string RequestProblem(const HttpRequest& request) {
    const Endpoint& endpoint = request.endpoint;
    if (endpoint.scheme != "http" && endpoint.scheme != "https") {
      return "unsupported URL scheme";
    }
    if (endpoint.host.empty() || endpoint.port <= 0 || endpoint.port > 65535) {
      return "invalid endpoint";
    }
    auto has_line_break = [](std::string_view text) {
      return text.find_first_of("\r\n") != std::string_view::npos ||
             text.find('\0') != std::string_view::npos;
    };
    if (request.method.empty() ||
        request.method.find_first_of(" \r\n") != std::string::npos ||
        request.target.empty() || request.target.front() != '/' ||
        request.target.find_first_of(" \r\n") != std::string::npos) {
      return "invalid request method or target";
    }
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || has_line_break(name) || has_line_break(value) ||
          name.find_first_of(" :") != std::string::npos) {
        return "invalid request header";
      }
    }
    return "";
  }

  void SetUpTls() {
    bio_method_ =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sas socket");
    BIO_meth_set_write(bio_method_, SocketBioWrite);
    BIO_meth_set_read(bio_method_, SocketBioRead);
    BIO_meth_set_ctrl(bio_method_, SocketBioCtrl);
    BIO_meth_set_create(bio_method_, SocketBioCreate);
    ssl_ctx_ = SSL_CTX_new(TLS_client_method());
    if (ssl_ctx_ == nullptr) {
      tls_setup_error_ = "cannot create a TLS context: " + OpenSslError();
      return;
    }
    SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_default_verify_paths(ssl_ctx_);
    if (!options_.ca_file.empty() &&
        SSL_CTX_load_verify_locations(ssl_ctx_, options_.ca_file.c_str(),
                                      nullptr) != 1) {
      tls_setup_error_ =
          "cannot load the CA file " + options_.ca_file + ": " + OpenSslError();
    }
    SSL_CTX_set_mode(ssl_ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Reads whole records at once: fewer recv calls per answer.
    SSL_CTX_set_read_ahead(ssl_ctx_, 1);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    // A close without close_notify ends a body read until the close, as for
    // plain HTTP; Content-Length and chunked framing still catch truncation.
    SSL_CTX_set_options(ssl_ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  }

  // Runs `done` on the loop's thread after the current callback, unless the
  // transport is destroyed first.
  void PostDone(Done done, TransportResult result) {
    loop_.Post([alive = std::weak_ptr<char>(alive_), done = std::move(done),
                result = std::move(result)]() mutable {
      if (!alive.expired()) done(std::move(result));
    });
  }

  // --- The attempt -------------------------------------------------------

  void StartAttempt(Exchange* exchange) {
    auto now = SteadyClock::now();
    exchange->attempt_deadline = now + attempt_limit_;
    exchange->connect_deadline = now + options_.connect_timeout;
    exchange->answer_started = false;
    if (!exchange->retried) {
      auto idle = idle_.find(exchange->pool_key);
      if (idle != idle_.end() && !idle->second.empty()) {
        Connection* connection = idle->second.back();
        idle->second.pop_back();
        Attach(exchange, connection);
        BeginExchange(connection);
        return;
      }
    }
    exchange->connecting = true;
    ArmTimer(exchange);
    const Endpoint& endpoint = exchange->request.endpoint;
    ProxySettings proxy = ProxyFor(endpoint.scheme, endpoint.host, env_);
    auto owned = std::make_unique<Connection>();
    Connection* connection = owned.get();
    connections_.emplace(connection, std::move(owned));
    connection->pool_key = exchange->pool_key;
    std::string host = endpoint.host;
    int port = endpoint.port;
    if (!proxy.host.empty()) {
      connection->through_proxy = true;
      connection->absolute_targets = endpoint.scheme == "http";
      if (!proxy.username.empty()) {
        connection->proxy_authorization =
            "Basic " + Base64(proxy.username + ":" + proxy.password);
      }
      host = proxy.host;
      port = proxy.port;
    }
    connection->peer =
        (connection->through_proxy ? "proxy " : "") + HostPort(host, port);
    Attach(exchange, connection);
    if (std::optional<Address> literal = IpLiteral(host, port)) {
      connection->addresses.push_back(*literal);
      ConnectNext(connection);
      return;
    }
    resolver_.Resolve(
        host, port,
        [this, alive = std::weak_ptr<char>(alive_), id = exchange->id,
         connection](std::vector<Address> addresses, std::string error) {
          if (alive.expired()) return;
          OnResolved(id, connection, std::move(addresses), error);
        });
  }

  void Attach(Exchange* exchange, Connection* connection) {
    exchange->connection = connection;
    connection->exchange = exchange;
  }

  void OnResolved(uint64_t id, Connection* connection,
                  std::vector<Address> addresses, const std::string& error) {
    auto it = exchanges_.find(id);
    // Ended meanwhile (deadline, CancelAll): its connection is gone too.
    if (it == exchanges_.end() || it->second->connection != connection) {
      return;
    }
    if (!error.empty()) {
      Fail(it->second.get(), TransportError::kConnection,
           "cannot resolve " + connection->peer + ": " + error);
      return;
    }
    connection->addresses = std::move(addresses);
    ConnectNext(connection);
  }

  // Connects to the next address to try; false when the exchange ended.
  bool ConnectNext(Connection* connection) {
    while (connection->next_address < connection->addresses.size()) {
      const Address& address =
          connection->addresses[connection->next_address++];
      CloseSocket(*connection);
      int fd = socket(address.storage.ss_family,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        connection->connect_error = std::strerror(errno);
        continue;
      }
      connection->fd = fd;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      int result =
          connect(fd, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length);
      if (result != 0 && errno != EINPROGRESS) {
        connection->connect_error = std::strerror(errno);
        continue;
      }
      uint32_t events =
          EPOLLIN | EPOLLRDHUP | (result == 0 ? 0u : uint32_t{EPOLLOUT});
      if (!loop_.Watch(fd, events, [this, connection](uint32_t ready) {
            OnEvent(connection, ready);
          })) {
        connection->connect_error = std::strerror(errno);
        continue;
      }
      connection->watched = true;
      connection->want_out = result != 0;
      connection->phase = Connection::Phase::kConnecting;
      if (result == 0) return OnConnected(connection);
      return true;
    }
    Fail(connection->exchange, TransportError::kConnection,
         "cannot connect to " + connection->peer + ": " +
             connection->connect_error);
    return false;
  }

  bool OnConnected(Connection* connection) {
    if (!SetWantOut(connection, false)) return false;
    Exchange* exchange = connection->exchange;
    const Endpoint& endpoint = exchange->request.endpoint;
    if (connection->through_proxy && endpoint.scheme == "https") {
      std::string authority = HostPort(endpoint.host, endpoint.port);
      std::string& out = connection->out;
      out.clear();
      out.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ");
      out.append(authority).append("\r\n");
      if (!connection->proxy_authorization.empty()) {
        out.append("Proxy-Authorization: ")
            .append(connection->proxy_authorization)
            .append("\r\n");
      }
      out.append("\r\n");
      connection->out_offset = 0;
      exchange->parser.Reset(options_.max_header_count, options_.max_body_bytes,
                             /*no_body=*/true, /*tunnel=*/true);
      connection->phase = Connection::Phase::kProxyWrite;
      return Flush(connection);
    }
    if (endpoint.scheme == "https") return StartTls(connection);
    return BeginExchange(connection);
  }

  bool StartTls(Connection* connection) {
    Exchange* exchange = connection->exchange;
    if (!tls_setup_error_.empty()) {
      Fail(exchange, TransportError::kTls, tls_setup_error_);
      return false;
    }
    SSL* ssl = SSL_new(ssl_ctx_);
    BIO* bio = ssl == nullptr ? nullptr : BIO_new(bio_method_);
    if (bio == nullptr) {
      if (ssl != nullptr) SSL_free(ssl);
      Fail(exchange, TransportError::kTls,
           "cannot start TLS: " + OpenSslError());
      return false;
    }
    BIO_set_data(
        bio, reinterpret_cast<void*>(static_cast<intptr_t>(connection->fd)));
    SSL_set_bio(ssl, bio, bio);
    connection->ssl = ssl;
    const std::string& host = exchange->request.endpoint.host;
    if (IpLiteral(host, 0)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set1_host(ssl, host.c_str());
    }
    if (auto session = sessions_.find(connection->pool_key);
        session != sessions_.end()) {
      SSL_set_session(ssl, session->second);
    }
    connection->phase = Connection::Phase::kHandshake;
    return Handshake(connection);
  }

  bool Handshake(Connection* connection) {
    ERR_clear_error();
    int result = SSL_connect(connection->ssl);
    if (result == 1) return BeginExchange(connection);
    Io io = SslFailure(connection->ssl, result);
    switch (io.status) {
      case Io::kWantRead:
        return SetWantOut(connection, false);
      case Io::kWantWrite:
        return SetWantOut(connection, true);
      case Io::kEof:
        Fail(connection->exchange, TransportError::kConnection,
             "connection closed in the TLS handshake with " + connection->peer);
        return false;
      default:
        break;
    }
    long verify = SSL_get_verify_result(connection->ssl);
    const std::string target =
        HostPort(connection->exchange->request.endpoint.host,
                 connection->exchange->request.endpoint.port);
    if (verify != X509_V_OK) {
      Fail(connection->exchange, TransportError::kTls,
           "certificate verification of " + target +
               " failed: " + X509_verify_cert_error_string(verify));
    } else if (!io.tls_error) {
      Fail(connection->exchange, TransportError::kConnection,
           "TLS handshake with " + target + " failed: " + io.error);
    } else {
      Fail(connection->exchange, TransportError::kTls,
           "TLS handshake with " + target + " failed: " + io.error);
    }
    return false;
  }

  // The request on a connection ready for it: written at once, the answer
  // awaited. False when the exchange ended.
  bool BeginExchange(Connection* connection) {
    Exchange* exchange = connection->exchange;
    exchange->connecting = false;
    exchange->last_progress = SteadyClock::now();
    ArmTimer(exchange);
    const HttpRequest& request = exchange->request;
    exchange->parser.Reset(options_.max_header_count, options_.max_body_bytes,
                           request.method == "HEAD", /*tunnel=*/false);
    WriteRequest(*connection, request);
    connection->phase = Connection::Phase::kWriting;
    return Flush(connection);
  }

  static void WriteRequest(Connection& connection, const HttpRequest& request) {
    std::string& out = connection.out;
    out.clear();
    out.append(request.method).append(" ");
    if (connection.absolute_targets) {
      out.append("http://").append(
          HostPort(request.endpoint.host, request.endpoint.port));
    }
    out.append(request.target).append(" HTTP/1.1\r\n");
    bool has_host = false;
    bool has_length = false;
    for (const auto& [name, value] : request.headers) {
      has_host = has_host || EqualsIgnoreCase(name, "host");
      has_length = has_length || EqualsIgnoreCase(name, "content-length");
    }
    if (!has_host) {
      out.append("Host: ").append(request.endpoint.HostHeader()).append("\r\n");
    }
    if (connection.absolute_targets &&
        !connection.proxy_authorization.empty()) {
      out.append("Proxy-Authorization: ")
          .append(connection.proxy_authorization)
          .append("\r\n");
    }
    for (const auto& [name, value] : request.headers) {
      out.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_length && (!request.body.empty() || request.method == "POST" ||
                        request.method == "PUT" || request.method == "PATCH")) {
      out.append("Content-Length: ")
          .append(std::to_string(request.body.size()))
          .append("\r\n");
    }
    out.append("\r\n").append(request.body);
    connection.out_offset = 0;
  }

  // --- I/O ---------------------------------------------------------------

  // Adds or removes EPOLLOUT; false (the exchange failed) when epoll
  // refuses.
  bool SetWantOut(Connection* connection, bool want) {
    if (connection->want_out == want) return true;
    if (!loop_.Modify(connection->fd, EPOLLIN | EPOLLRDHUP |
                                          (want ? uint32_t{EPOLLOUT} : 0u))) {
      Fail(connection->exchange, TransportError::kConnection,
           std::string("epoll_ctl: ") + std::strerror(errno));
      return false;
    }
    connection->want_out = want;
    return true;
  }

  Io WriteSome(Connection& connection, const char* data, size_t size) {
    if (connection.ssl == nullptr) {
      ssize_t n = send(connection.fd, data, size, MSG_NOSIGNAL);
      if (n >= 0) return {Io::kDone, static_cast<size_t>(n)};
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return {Io::kWantWrite};
      }
      return {Io::kError, 0, std::strerror(errno)};
    }
    ERR_clear_error();
    int n = SSL_write(connection.ssl, data,
                      static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
    return SslFailure(connection.ssl, n);
  }

  Io ReadSome(Connection& connection, char* data, size_t size) {
    if (connection.ssl == nullptr) {
      ssize_t n = recv(connection.fd, data, size, 0);
      if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
      if (n == 0) return {Io::kEof};
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return {Io::kWantRead};
      }
      return {Io::kError, 0, std::strerror(errno)};
    }
    ERR_clear_error();
    int n = SSL_read(connection.ssl, data,
                     static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return {Io::kDone, static_cast<size_t>(n)};
    return SslFailure(connection.ssl, n);
  }

  // Writes what is left of connection->out; on completion moves kWriting
  // to kReading and kProxyWrite to kProxyRead. False when the exchange
  // ended.
  bool Flush(Connection* connection) {
    Exchange* exchange = connection->exchange;
    while (connection->out_offset < connection->out.size()) {
      Io io = WriteSome(*connection,
                        connection->out.data() + connection->out_offset,
                        connection->out.size() - connection->out_offset);
      switch (io.status) {
        case Io::kDone:
          connection->out_offset += io.bytes;
          if (!exchange->connecting) {
            exchange->last_progress = SteadyClock::now();
          }
          continue;
        case Io::kWantWrite:
          return SetWantOut(connection, true);
        case Io::kWantRead:
          return SetWantOut(connection, false);
        default:
          return OnIoFailure(connection, io, "send");
      }
    }
    if (!SetWantOut(connection, false)) return false;
    if (connection->phase == Connection::Phase::kProxyWrite) {
      connection->phase = Connection::Phase::kProxyRead;
    } else if (connection->phase == Connection::Phase::kWriting) {
      connection->phase = Connection::Phase::kReading;
    }
    return true;
  }

  // Reads what the peer sent and parses it (an answer, or the proxy's
  // answer to CONNECT). False when the exchange ended.
  bool ReadAnswer(Connection* connection) {
    Exchange* exchange = connection->exchange;
    while (true) {
      std::string& in = connection->in;
      if (connection->in_begin == connection->in_end) {
        connection->in_begin = connection->in_end = 0;
      } else if (in.size() - connection->in_end < kReadWindow / 2 &&
                 connection->in_begin > 0) {
        in.erase(0, connection->in_begin);
        connection->in_end -= connection->in_begin;
        connection->in_begin = 0;
      }
      if (in.size() - connection->in_end < kReadWindow / 2) {
        in.resize(connection->in_end + kReadWindow);
      }
      size_t window = in.size() - connection->in_end;
      Io io = ReadSome(*connection, in.data() + connection->in_end, window);
      if (io.status == Io::kWantRead) {
        // While the request is still being written, EPOLLOUT stays.
        bool writing = connection->phase == Connection::Phase::kWriting ||
                       connection->phase == Connection::Phase::kProxyWrite;
        return writing || SetWantOut(connection, false);
      }
      if (io.status == Io::kWantWrite) return SetWantOut(connection, true);
      if (io.status != Io::kDone) {
        if (io.status == Io::kEof) exchange->parser.FeedEof();
        if (exchange->parser.done()) return OnAnswer(connection, true);
        if (io.status == Io::kEof && exchange->parser.failed() &&
            exchange->answer_started) {
          Fail(exchange, exchange->parser.error(), exchange->parser.detail());
          return false;
        }
        return OnIoFailure(connection, io, "receive");
      }
      connection->in_end += io.bytes;
      if (!exchange->connecting) {
        exchange->answer_started = true;
        exchange->last_progress = SteadyClock::now();
      }
      connection->in_begin +=
          exchange->parser.Feed(in.data() + connection->in_begin,
                                connection->in_end - connection->in_begin);
      if (exchange->parser.done()) return OnAnswer(connection, false);
      if (exchange->parser.failed()) {
        Fail(exchange, exchange->parser.error(), exchange->parser.detail());
        return false;
      }
      bool more = io.bytes == window || (connection->ssl != nullptr &&
                                         SSL_has_pending(connection->ssl));
      if (!more) return true;
    }
  }

  // A read or write failed (or met the end of the connection): resend once
  // when a reused connection failed before any byte of the answer.
  bool OnIoFailure(Connection* connection, const Io& io, const char* what) {
    Exchange* exchange = connection->exchange;
    if (!exchange->connecting && !exchange->answer_started &&
        connection->answers > 0 && !exchange->retried && !cancelled_) {
      exchange->retried = true;
      Detach(exchange);
      StartAttempt(exchange);
      return false;
    }
    std::string detail;
    switch (connection->phase) {
      case Connection::Phase::kProxyWrite:
      case Connection::Phase::kProxyRead:
        detail = "proxy tunnel through " + connection->peer + ": ";
        break;
      default:
        detail = HostPort(exchange->request.endpoint.host,
                          exchange->request.endpoint.port) +
                 ": ";
        break;
    }
    if (io.status == Io::kEof) {
      detail += exchange->parser.failed() ? exchange->parser.detail()
                                          : "connection closed";
    } else {
      detail += std::string(what) + " failed: " + io.error;
    }
    Fail(exchange, TransportError::kConnection, std::move(detail));
    return false;
  }

  // The parser has a whole answer (`eof`: the peer has closed).
  bool OnAnswer(Connection* connection, bool eof) {
    Exchange* exchange = connection->exchange;
    if (connection->phase == Connection::Phase::kProxyRead) {
      int status = exchange->parser.status();
      if (status < 200 || status > 299) {
        Fail(exchange, TransportError::kConnection,
             "proxy " + connection->peer + " refused the tunnel: status " +
                 std::to_string(status));
        return false;
      }
      if (eof || connection->in_begin != connection->in_end) {
        Fail(exchange, TransportError::kConnection,
             "proxy " + connection->peer + " broke the tunnel");
        return false;
      }
      return StartTls(connection);
    }
    ++connection->answers;
    bool reusable = !eof && exchange->parser.keep_alive() &&
                    connection->in_begin == connection->in_end &&
                    connection->phase == Connection::Phase::kReading &&
                    !cancelled_;
    if (connection->ssl != nullptr && !connection->tls_session_saved) {
      connection->tls_session_saved = true;
      SSL_SESSION* session = SSL_get1_session(connection->ssl);
      if (session != nullptr && SSL_SESSION_is_resumable(session)) {
        SSL_SESSION*& kept = sessions_[connection->pool_key];
        if (kept != nullptr) SSL_SESSION_free(kept);
        kept = session;
      } else if (session != nullptr) {
        SSL_SESSION_free(session);
      }
    }
    TransportResult result;
    result.response = exchange->parser.TakeResponse();
    if (reusable) {
      connection->exchange = nullptr;
      exchange->connection = nullptr;
      connection->phase = Connection::Phase::kIdle;
      connection->in_begin = connection->in_end = 0;
      idle_[connection->pool_key].push_back(connection);
    }
    Complete(exchange, std::move(result));
    return false;
  }

  void OnEvent(Connection* connection, uint32_t events) {
    using Phase = Connection::Phase;
    constexpr uint32_t kReadable = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
    switch (connection->phase) {
      case Phase::kIdle:
        OnIdleEvent(connection, events);
        return;
      case Phase::kConnecting: {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(connection->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          connection->connect_error = std::strerror(error);
          ConnectNext(connection);
          return;
        }
        OnConnected(connection);
        return;
      }
      case Phase::kHandshake:
        Handshake(connection);
        return;
      case Phase::kProxyWrite:
      case Phase::kWriting:
        if (!Flush(connection)) return;
        if ((events & kReadable) != 0) ReadAnswer(connection);
        return;
      case Phase::kProxyRead:
      case Phase::kReading:
        ReadAnswer(connection);
        return;
    }
  }

  // An idle connection the peer closed or wrote to: dropped. For TLS, what
  // arrives may be only session tickets, which keep it.
  void OnIdleEvent(Connection* connection, uint32_t events) {
    if (connection->ssl != nullptr &&
        (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) {
      if (connection->in.size() < kReadWindow)
        connection->in.resize(kReadWindow);
      Io io =
          ReadSome(*connection, connection->in.data(), connection->in.size());
      if (io.status == Io::kWantRead) return;
    }
    auto& idle = idle_[connection->pool_key];
    idle.erase(std::remove(idle.begin(), idle.end(), connection), idle.end());
    Close(connection);
  }

  // --- Deadlines ---------------------------------------------------------

  SteadyClock::time_point NextDeadline(const Exchange& exchange) const {
    return std::min(exchange.attempt_deadline,
                    exchange.connecting
                        ? exchange.connect_deadline
                        : exchange.last_progress + options_.request_timeout);
  }

  // Makes the exchange's one timer fire no later than its next deadline. A
  // timer set for a later deadline is kept: when it fires early, OnTimer
  // sets it again, so progress costs no timer operation.
  void ArmTimer(Exchange* exchange) {
    SteadyClock::time_point when = NextDeadline(*exchange);
    if (exchange->timer != 0) {
      if (exchange->timer_when <= when) return;
      loop_.Cancel(exchange->timer);
    }
    exchange->timer_when = when;
    exchange->timer =
        loop_.RunAt(when, [this, id = exchange->id] { OnTimer(id); });
  }

  void OnTimer(uint64_t id) {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end()) return;
    Exchange* exchange = it->second.get();
    exchange->timer = 0;
    auto now = SteadyClock::now();
    if (now >= exchange->attempt_deadline) {
      Fail(exchange, TransportError::kTimeout,
           "answer not complete within " + MillisText(attempt_limit_));
    } else if (exchange->connecting && now >= exchange->connect_deadline) {
      Fail(exchange, TransportError::kTimeout, ConnectTimeoutDetail(*exchange));
    } else if (!exchange->connecting &&
               now >= exchange->last_progress + options_.request_timeout) {
      const char* what =
          exchange->answer_started ? "answer stalled for "
          : exchange->connection != nullptr &&
                  exchange->connection->phase == Connection::Phase::kWriting
              ? "request not sent within "
              : "no answer within ";
      Fail(exchange, TransportError::kTimeout,
           what + MillisText(options_.request_timeout));
    } else {
      ArmTimer(exchange);
    }
  }

  std::string ConnectTimeoutDetail(const Exchange& exchange) const {
    const Connection* connection = exchange.connection;
    std::string within = " within " + MillisText(options_.connect_timeout);
    switch (connection->phase) {
      case Connection::Phase::kConnecting:
        if (connection->fd < 0) {
          return "name of " + connection->peer + " not resolved" + within;
        }
        return "no connection to " + connection->peer + within;
      case Connection::Phase::kProxyWrite:
      case Connection::Phase::kProxyRead:
        return "proxy tunnel through " + connection->peer + " not open" +
               within;
      default:
        return "TLS handshake with " +
               HostPort(exchange.request.endpoint.host,
                        exchange.request.endpoint.port) +
               " not complete" + within;
    }
  }

  // --- Ending ------------------------------------------------------------

  void Fail(Exchange* exchange, TransportError error, std::string detail) {
    Complete(exchange, {error, std::move(detail), {}});
  }

  // Ends the exchange: its connection (if still attached) is closed, its
  // timer cancelled, and `done` called (posted when inside Send). Touches
  // nothing of the transport after calling `done`.
  void Complete(Exchange* exchange, TransportResult result) {
    if (exchange->timer != 0) loop_.Cancel(exchange->timer);
    Detach(exchange);
    Done done = std::move(exchange->done);
    exchanges_.erase(exchange->id);
    if (in_send_ > 0) {
      PostDone(std::move(done), std::move(result));
    } else {
      done(std::move(result));
    }
  }

  // Closes the exchange's connection, if any.
  void Detach(Exchange* exchange) {
    Connection* connection = exchange->connection;
    if (connection == nullptr) return;
    exchange->connection = nullptr;
    connection->exchange = nullptr;
    Close(connection);
  }

  void Close(Connection* connection) {
    Release(*connection);
    connections_.erase(connection);
  }

  void CloseSocket(Connection& connection) {
    if (connection.watched) loop_.Unwatch(connection.fd);
    connection.watched = false;
    connection.want_out = false;
    if (connection.fd >= 0) close(connection.fd);
    connection.fd = -1;
  }

  void Release(Connection& connection) {
    if (connection.ssl != nullptr) SSL_free(connection.ssl);
    connection.ssl = nullptr;
    CloseSocket(connection);
  }

  EventLoop& loop_;
  const TransportOptions options_;
  const Environment& env_;
  const Millis attempt_limit_;
  // Posted callbacks hold it weakly: expired once the transport is gone.
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);
  SSL_CTX* ssl_ctx_ = nullptr;
  BIO_METHOD* bio_method_ = nullptr;
  // Why HTTPS cannot work (no context, an unreadable ca_file); empty if it
  // can.
  std::string tls_setup_error_;
  bool cancelled_ = false;
  // > 0 while Send runs: `done` is then posted, never called inside it.
  int in_send_ = 0;
  uint64_t next_exchange_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Exchange>> exchanges_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  // Per pool key ("https://host:port"), most recently used last.
  std::unordered_map<std::string, std::vector<Connection*>> idle_;
  std::unordered_map<std::string, SSL_SESSION*> sessions_;
  // Last: its thread stops before the rest is destroyed.
  Resolver resolver_;
};

}  // namespace

std::unique_ptr<AsyncHttpTransport> MakeEventLoopTransport(
    EventLoop& loop, TransportOptions options, const Environment& env) {
  return std::make_unique<EventLoopTransport>(loop, std::move(options), env);
}

}  // namespace sas::aliyun
