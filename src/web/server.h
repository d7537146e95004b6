#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "web/http_server.h"

namespace sas::web {

struct WebSecurity;

struct WebOptions {
  // "host:port", ":port" (every interface) or "[v6]:port"; port 0 picks one.
  std::vector<std::string> listen_addresses{":10075"};
  std::string telemetry_path = "/metrics";
  // Connections, timeouts and request limits (--web.max-connections); its
  // listen_addresses are replaced by the ones above.
  HttpServerOptions server;
  // --web.config.file: the configuration in force (WebConfigWatcher::
  // Current), asked once per request and per new connection. Set: every
  // path answers 401 without the credentials of one of its users, every
  // answer carries its headers, and when it turns TLS on, every
  // connection is TLS. Unset: plain HTTP, no authentication.
  std::function<std::shared_ptr<const WebSecurity>()> security;
};

// What the routes serve. Each callback must be thread-safe and must not
// block on the network (pages come from in-memory snapshots).
// A request to the task API, and its answer (JSON), without the HTTP library.
struct ApiCall {
  std::string method;
  std::string path;                          // as sent, still percent-encoded
  std::map<std::string, std::string> query;  // decoded; the first of a name
  std::string body;
};
struct ApiReply {
  int status = 200;
  std::string body;
};

// The page at the telemetry path.
struct MetricsPage {
  std::shared_ptr<const std::string> body;
  bool gzip = false;  // body is one gzip member of the exposition text
};
// A page of plain text.
MetricsPage TextPage(std::string text);

struct WebHandlers {
  // The exposition; gzip-encoded when `accepts_gzip` is true and the
  // handler chooses to (an answer it leaves as text is compressed by the
  // server).
  std::function<MetricsPage(bool accepts_gzip)> metrics;
  std::function<bool()> ready;  // config loaded, every task polled
  // The HTML page at /, e.g. RenderStatusPage over a snapshot. Unset: a
  // static landing page with links.
  std::function<std::string()> status_page;
  // The task API under /api/v1/tasks (--web.enable-task-api). Unset: those
  // paths answer 404. Bodies over 64 KiB (after any chunked or gzip
  // decoding) get 413 before it is called.
  std::function<ApiReply(const ApiCall&)> task_api;
  // POST or PUT /-/reload (--web.enable-lifecycle): re-reads the
  // configuration; false with *error (no secrets in it) when it was not
  // applied. Unset: 403, as Prometheus without --web.enable-lifecycle.
  std::function<bool(std::string* error)> reload;
};

// The exporter's routes on an HttpServer: telemetry path, /-/healthy,
// /-/ready, /-/reload, the status (or landing) page at / and the task API. Gzip
// when the client asks for it. Health, readiness and refusals are answered on
// the event loop, so they stay fast while handlers are busy. Start/Stop from
// one thread; the handlers run on the server's handler threads.
class WebServer {
 public:
  WebServer(WebOptions options, WebHandlers handlers);
  ~WebServer();

  // Binds every address and starts serving. On failure returns false and
  // sets *error naming the address; nothing is left listening.
  bool Start(std::string* error);
  // "127.0.0.1:43117", one per listener, after Start.
  const std::vector<std::string>& bound_addresses() const {
    return server_.bound_addresses();
  }
  void Stop();
  HttpServerStats Stats() const { return server_.Stats(); }

  // The answer to one request; exposed for tests.
  HttpResponse Route(const HttpRequest& request) const;

 private:
  HttpResponse Refuse(int status, const std::string& message,
                      const HttpRequest& request) const;
  HttpResponse RouteAllowed(const HttpRequest& request) const;
  // Whether the request may run on the event loop.
  bool RunsInline(const HttpRequest& request) const;
  HttpResponse TaskApi(const HttpRequest& request) const;
  HttpResponse Reload(const HttpRequest& request) const;

  const WebOptions options_;
  const WebHandlers handlers_;
  const std::string landing_page_;
  HttpServer server_;
};

}  // namespace sas::web
