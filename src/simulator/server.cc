#include "simulator/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>

#include "util/log.h"

namespace sas::simulator {
namespace {

ApiRequest ToApiRequest(const httplib::Request& request) {
  ApiRequest api;
  api.method = request.method;
  api.target = request.target;
  for (const auto& [name, value] : request.headers) {
    // httplib adds these for its own bookkeeping; they were not sent.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" ||
        name == "LOCAL_ADDR" || name == "LOCAL_PORT") {
      continue;
    }
    api.headers.emplace_back(name, value);
  }
  api.body = request.body;
  return api;
}

// Calls visit(fd, peer_port) for each of this process's connected sockets
// whose local port is `port`, i.e. the connections the server accepted.
// Linux-specific (/proc/self/fd).
void ForEachConnection(
    int port, const std::function<void(int fd, int peer_port)>& visit) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  int dir_fd = dirfd(dir);
  auto port_of = [](const sockaddr_storage& address) {
    if (address.ss_family == AF_INET) {
      return static_cast<int>(
          ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port));
    }
    if (address.ss_family == AF_INET6) {
      return static_cast<int>(
          ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port));
    }
    return -1;
  };
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dir_fd) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local),
                    &length) != 0 ||
        port_of(local) != port) {
      continue;
    }
    sockaddr_storage peer{};
    length = sizeof(peer);
    // A listening socket has no peer.
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer),
                    &length) != 0) {
      continue;
    }
    visit(static_cast<int>(fd), port_of(peer));
  }
  closedir(dir);
}

// Shuts down (without closing: their workers still own them) every
// connection the server on `port` accepted.
void ShutdownConnections(int port) {
  ForEachConnection(port, [](int fd, int) { shutdown(fd, SHUT_RDWR); });
}

// Resets the connection from `peer_port` to the server on `port`: a TCP
// RST, not an orderly close. The descriptor stays valid for its worker
// (dup2 puts a fresh unconnected socket in its place, so it is never reused
// for something else); the connection's last reference goes with SO_LINGER
// 0, which is what makes the kernel reset it.
void ResetConnection(int port, int peer_port) {
  ForEachConnection(port, [peer_port](int fd, int peer) {
    if (peer != peer_port) return;
    linger abort{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    int placeholder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (placeholder < 0) return;
    dup2(placeholder, fd);
    close(placeholder);
  });
}

// The worker pool behind the accept loop. cpp-httplib hands each accepted
// connection over through enqueue() on its accept thread, so holding
// enqueue() back holds the accept loop: while `stalled()` says so,
// connections are accepted (by the kernel, into the listen backlog, and
// the one in hand) and never answered, not even the TLS handshake.
class StallableQueue : public httplib::TaskQueue {
 public:
  StallableQueue(size_t threads, std::function<bool()> stalled)
      : pool_(threads), stalled_(std::move(stalled)) {}

  void enqueue(std::function<void()> task) override {
    while (stalled_()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pool_.enqueue(std::move(task));
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  const std::function<bool()> stalled_;
};

}  // namespace

Server::Server(Service& service, ServerOptions options)
    : service_(service), options_(std::move(options)) {}

Server::~Server() { Stop(); }

std::string Server::Url() const {
  std::string host = options_.host.find(':') != std::string::npos
                         ? "[" + options_.host + "]"
                         : options_.host;
  return std::string(options_.tls_cert_file.empty() ? "http" : "https") +
         "://" + host + ":" + std::to_string(port_);
}

bool Server::Start(std::string* error) {
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    *error =
        "--web.tls-cert-file and --web.tls-key-file must be given together";
    return false;
  }
  if (!options_.tls_cert_file.empty()) {
    server_ = std::make_unique<httplib::SSLServer>(
        options_.tls_cert_file.c_str(), options_.tls_key_file.c_str());
    if (!server_->is_valid()) {
      *error = "cannot load the TLS certificate " + options_.tls_cert_file +
               " or key " + options_.tls_key_file;
      server_.reset();
      return false;
    }
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  int threads = std::max(16, options_.threads);
  server_->new_task_queue = [this, threads] {
    return new StallableQueue(static_cast<size_t>(threads),
                              [this] { return Stalled(); });
  };
  server_->set_keep_alive_max_count(100000);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle
  // and the client's delayed ACK add 40 ms to every answer.
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(30);

  server_->Get("/_simulator/stats",
               [this](const httplib::Request&, httplib::Response& response) {
                 response.set_content(service_.StatsJson(), "application/json");
               });
  server_->Get("/_simulator/requests", [this](const httplib::Request&,
                                              httplib::Response& response) {
    response.set_content(service_.RequestLogJson(), "application/json");
  });
  server_->Get("/_simulator/fail", [this](const httplib::Request& request,
                                          httplib::Response& response) {
    ApiResponse answer = service_.HandleFailSwitch(ToApiRequest(request));
    response.status = answer.status;
    response.set_content(answer.body, *answer.Header("content-type"));
  });
  auto faults = [this](const httplib::Request& request,
                       httplib::Response& response) {
    ApiResponse answer = service_.HandleFaults(ToApiRequest(request));
    response.status = answer.status;
    response.set_content(answer.body, *answer.Header("content-type"));
  };
  server_->Get("/_simulator/faults", faults);
  server_->Post("/_simulator/faults", faults);
  server_->Delete("/_simulator/faults", faults);
  auto api = [this](const httplib::Request& request,
                    httplib::Response& response) {
    // A stall also holds the requests of connections opened before it.
    while (Stalled()) Delay(Millis(10));
    service_.CallStarted();
    ApiResponse answer = service_.Handle(ToApiRequest(request));
    Delay(answer.delay);
    service_.CallFinished();
    log::Debug("API request", {{"method", request.method},
                               {"path", request.path},
                               {"status", std::to_string(answer.status)},
                               {"code", answer.code},
                               {"export_id", std::to_string(answer.export_id)},
                               {"access_key_id", answer.access_key_id}});
    response.status = answer.status;
    std::string content_type = "application/json";
    for (const auto& [name, value] : answer.headers) {
      if (name == "content-type") {
        content_type = value;
      } else {
        response.set_header(name, value);
      }
    }
    if (answer.breakage == Breakage::kNone) {
      response.set_content(answer.body, content_type);
      return;
    }
    // The whole body's Content-Length, half the body, then the end.
    auto body = std::make_shared<std::string>(std::move(answer.body));
    bool reset = answer.breakage == Breakage::kReset;
    response.set_content_provider(
        body->size(), content_type,
        [this, body, reset, peer_port = request.remote_port](
            size_t, size_t, httplib::DataSink& sink) {
          sink.write(body->data(), body->size() / 2);
          if (reset) ResetConnection(port_, peer_port);
          return false;  // cpp-httplib then closes the connection
        });
  };
  const std::string any = ".*";
  server_->Get(any, api);
  server_->Post(any, api);
  server_->Put(any, api);
  server_->Patch(any, api);
  server_->Delete(any, api);
  server_->Options(any, api);

  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
  } else if (server_->bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
  } else {
    port_ = -1;
  }
  if (port_ <= 0) {
    *error = "cannot listen on " + options_.host + ":" +
             std::to_string(options_.port);
    server_.reset();
    return false;
  }
  listener_ = std::thread([this] {
    server_->listen_after_bind();
    std::lock_guard<std::mutex> lock(mutex_);
    listener_done_ = true;
    cv_.notify_all();
  });
  // httplib's stop() is a no-op until the accept loop runs: wait for it.
  std::unique_lock<std::mutex> lock(mutex_);
  while (!server_->is_running() && !listener_done_) {
    cv_.wait_for(lock, std::chrono::milliseconds(1));
  }
  return true;
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (!listener_.joinable()) return;
  server_->stop();
  // httplib keeps an idle keep-alive connection's worker for the whole
  // keep-alive timeout and joins the workers before listen returns: end the
  // connections so that stopping is prompt. Repeated, for a connection
  // accepted just as the listening socket closed.
  std::unique_lock<std::mutex> lock(mutex_);
  while (!listener_done_) {
    lock.unlock();
    ShutdownConnections(port_);
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(20),
                 [this] { return listener_done_; });
  }
  lock.unlock();
  listener_.join();
}

bool Server::Stalled() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
  }
  return service_.faults().Stalling();
}

void Server::Delay(Millis delay) {
  if (delay.count() <= 0) return;
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, delay, [this] { return stopping_; });
}

}  // namespace sas::simulator
