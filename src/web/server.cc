#include "web/server.h"

#include <httplib.h>

#include "metrics/text_format.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/version.h"

namespace sas::web {
namespace {

constexpr const char* kTaskApiPath = "/api/v1/tasks";

bool IsTaskApiPath(const std::string& path) {
  return path.rfind(kTaskApiPath, 0) == 0;
}

constexpr const char* kLandingPage = R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>aliyun_sas_exporter</title>
<style>body{font-family:sans-serif;margin:2em;max-width:50em}code{background:#eee;padding:0 .2em}</style>
</head>
<body>
<h1>aliyun_sas_exporter</h1>
<p>Prometheus exporter for Alibaba Cloud Security Center export tasks
(<code>DescribeExportInfo</code>). Values come from background polls.</p>
<ul>
<li><a href="{{METRICS}}">Metrics</a></li>
<li><a href="-/healthy">Health</a></li>
<li><a href="-/ready">Readiness</a></li>
</ul>
<p>Version {{VERSION}} (revision {{REVISION}})</p>
</body>
</html>
)";

std::string LandingPage(const std::string& telemetry_path) {
  std::string page = kLandingPage;
  auto replace = [&page](std::string_view marker, const std::string& value) {
    auto pos = page.find(marker);
    if (pos != std::string::npos) page.replace(pos, marker.size(), value);
  };
  // Relative link so the page works behind a path-prefixing proxy.
  replace("{{METRICS}}", HtmlEscape(telemetry_path.substr(1)));
  replace("{{VERSION}}", HtmlEscape(kVersion));
  replace("{{REVISION}}", HtmlEscape(kRevision));
  return page;
}

}  // namespace

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

WebServer::WebServer(WebOptions options, WebHandlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {}

WebServer::~WebServer() { Stop(); }

void WebServer::InstallRoutes(httplib::Server& server) {
  const std::string telemetry = options_.telemetry_path;
  server.Get(telemetry,
             [this](const httplib::Request&, httplib::Response& res) {
               res.set_content(handlers_.metrics(),
                               std::string(metrics::kTextContentType));
             });
  server.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Healthy.\n", "text/plain; charset=utf-8");
  });
  server.Get("/-/ready", [this](const httplib::Request&,
                                httplib::Response& res) {
    if (handlers_.ready()) {
      res.set_content("Ready.\n", "text/plain; charset=utf-8");
    } else {
      res.status = 503;
      res.set_content("Not ready: waiting for the first poll of every task.\n",
                      "text/plain; charset=utf-8");
    }
  });
  if (handlers_.status_page) {
    server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(handlers_.status_page(), "text/html; charset=utf-8");
    });
  } else {
    std::string landing = LandingPage(telemetry);
    server.Get("/", [landing](const httplib::Request&, httplib::Response& res) {
      res.set_content(landing, "text/html; charset=utf-8");
    });
  }
  // Anything else: a plain, specific answer instead of an empty body.
  server.set_error_handler([](const httplib::Request& req,
                              httplib::Response& res) {
    if (!res.body.empty()) return;
    if (IsTaskApiPath(req.path)) {
      std::string message =
          res.status == 413   ? "request body larger than 64 KiB"
          : res.status == 404 ? "not found: " + req.path
                              : "error " + std::to_string(res.status);
      res.set_content("{\"error\": \"" + message + "\"}\n", "application/json");
      return;
    }
    std::string reason = res.status == 404 ? "not found" : "error";
    res.set_content(std::to_string(res.status) + " " + reason + ": " +
                        req.method + " " + req.path + "\n",
                    "text/plain; charset=utf-8");
  });
  server.set_exception_handler([](const httplib::Request& req,
                                  httplib::Response& res, std::exception_ptr) {
    log::Error("Request handler failed", {{"path", req.path}});
    res.status = 500;
    res.set_content("500 internal error\n", "text/plain; charset=utf-8");
  });
  const bool task_api = static_cast<bool>(handlers_.task_api);
  if (task_api) {
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
      ApiCall call{req.method, req.path, {}, req.body};
      for (const auto& [name, value] : req.params) call.query[name] = value;
      ApiReply reply = handlers_.task_api(call);
      res.status = reply.status;
      if (!reply.body.empty()) {
        res.set_content(reply.body, "application/json");
      }
    };
    server.Get(kTaskApiPath, serve);
    server.Post(kTaskApiPath, serve);
    server.Delete(std::string(kTaskApiPath) + "/.*", serve);
  }
  server.set_pre_routing_handler([task_api](const httplib::Request& req,
                                            httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (task_api && IsTaskApiPath(req.path)) {
      if (req.method == "POST" || req.method == "DELETE") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 405;
      res.set_header("Allow", "GET, POST, DELETE");
      res.set_content(
          "{\"error\": \"method " + req.method + " is not allowed here\"}\n",
          "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content(
        "405 method not allowed: " + req.method + " " + req.path + "\n",
        "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });
}

bool WebServer::Start(std::string* error) {
  for (const std::string& address : options_.listen_addresses) {
    ListenAddress parsed;
    if (!ParseListenAddress(address, &parsed, error)) {
      Stop();
      return false;
    }
    auto server = std::make_unique<httplib::Server>();
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let
    // a second exporter share the port silently.
    server->set_socket_options([](int socket) {
      int yes = 1;
      setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    InstallRoutes(*server);
    server->set_keep_alive_timeout(30);
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle
    // and the scraper's delayed ACK add 40 ms to every scrape.
    server->set_tcp_nodelay(true);
    server->set_read_timeout(10, 0);
    server->set_write_timeout(10, 0);
    server->set_payload_max_length(64 * 1024);
    std::vector<std::string> hosts;
    if (parsed.host.empty()) {
      hosts = {"::", "0.0.0.0"};  // dual-stack first, IPv4-only fallback
    } else {
      hosts = {parsed.host};
    }
    int port = -1;
    std::string bound_host;
    for (const std::string& host : hosts) {
      port = parsed.port == 0
                 ? server->bind_to_any_port(host)
                 : (server->bind_to_port(host, parsed.port) ? parsed.port : -1);
      if (port > 0) {
        bound_host = host;
        break;
      }
    }
    if (port <= 0) {
      *error = "cannot listen on " + address +
               ": the address is in use or not available here";
      Stop();
      return false;
    }
    bound_addresses_.push_back((bound_host.find(':') != std::string::npos
                                    ? "[" + bound_host + "]"
                                    : bound_host) +
                               ":" + std::to_string(port));
    httplib::Server* raw = server.get();
    servers_.push_back(std::move(server));
    threads_.emplace_back([raw] { raw->listen_after_bind(); });
    // stop() only takes effect once the server runs: wait for it, so that a
    // Stop() right after Start() cannot hang.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!raw->is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

void WebServer::Stop() {
  for (auto& server : servers_) server->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  servers_.clear();
}

}  // namespace sas::web
