#include "simulator/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

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

// Shuts down (without closing: their workers still own them) this process's
// connected sockets whose local port is `port`, i.e. the connections the
// server accepted. Linux-specific (/proc/self/fd).
void ShutdownConnections(int port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  int dir_fd = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dir_fd) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local),
                    &length) != 0) {
      continue;
    }
    int local_port = -1;
    if (local.ss_family == AF_INET) {
      local_port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    } else if (local.ss_family == AF_INET6) {
      local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    }
    int listening = 0;
    socklen_t option_length = sizeof(listening);
    if (local_port != port ||
        getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening,
                   &option_length) != 0 ||
        listening) {
      continue;
    }
    shutdown(static_cast<int>(fd), SHUT_RDWR);
  }
  closedir(dir);
}

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
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
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
  auto api = [this](const httplib::Request& request,
                    httplib::Response& response) {
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
    response.set_content(answer.body, content_type);
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

void Server::Delay(Millis delay) {
  if (delay.count() <= 0) return;
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, delay, [this] { return stopping_; });
}

}  // namespace sas::simulator
