#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace sas::web {

struct WebOptions {
  // "host:port", ":port" (every interface) or "[v6]:port"; port 0 picks one.
  std::vector<std::string> listen_addresses{":10075"};
  std::string telemetry_path = "/metrics";
};

// What the routes serve. Each callback must be thread-safe and must not
// block on the network (pages come from in-memory snapshots).
// A request to the task API, and its answer (JSON), without the HTTP library.
struct ApiCall {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string body;
};
struct ApiReply {
  int status = 200;
  std::string body;
};

struct WebHandlers {
  std::function<std::string()> metrics;  // the exposition text
  std::function<bool()> ready;           // config loaded, every task polled
  // The HTML page at /, e.g. RenderStatusPage over a snapshot. Unset: a
  // static landing page with links.
  std::function<std::string()> status_page;
  // The task API under /api/v1/tasks (--web.enable-task-api). Unset: those
  // paths answer 404. Bodies over 64 KiB get 413 before it is called.
  std::function<ApiReply(const ApiCall&)> task_api;
};

// The HTTP server: telemetry path, /-/healthy, /-/ready and the status (or
// landing) page at /. Gzip when the client asks for it. One listener per
// address. Start/Stop from one thread; the handlers run in the server's pool.
class WebServer {
 public:
  WebServer(WebOptions options, WebHandlers handlers);
  ~WebServer();

  // Binds every address and starts serving. On failure returns false and
  // sets *error naming the address; nothing is left listening.
  bool Start(std::string* error);
  // "127.0.0.1:43117", one per listener, after Start.
  const std::vector<std::string>& bound_addresses() const {
    return bound_addresses_;
  }
  void Stop();

 private:
  void InstallRoutes(httplib::Server& server);

  const WebOptions options_;
  const WebHandlers handlers_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
  std::vector<std::string> bound_addresses_;
};

struct ListenAddress {
  std::string host;  // "" for every interface
  int port = 0;
};
// Parses a listen address as WebOptions describes; false with *error.
bool ParseListenAddress(std::string_view text, ListenAddress* out,
                        std::string* error);

}  // namespace sas::web
