#include "web/server.h"

#include <nlohmann/json.hpp>

#include "metrics/text_format.h"
#include "util/strings.h"
#include "util/version.h"
#include "web/web_security.h"

namespace sas::web {
namespace {

using json = nlohmann::json;

constexpr std::string_view kTaskApiPath = "/api/v1/tasks";
constexpr std::string_view kReloadPath = "/-/reload";
constexpr const char* kJsonType = "application/json";

bool IsTaskApiPath(std::string_view path) {
  return path == kTaskApiPath ||
         (path.starts_with(kTaskApiPath) && path[kTaskApiPath.size()] == '/');
}

bool IsGetOrHead(const HttpRequest& request) {
  return request.method == "GET" || request.method == "HEAD";
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

HttpResponse Text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// {"error": message}, built by the JSON library: quotes, control characters
// and invalid UTF-8 in the message cannot break the document.
HttpResponse JsonError(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.content_type = kJsonType;
  response.body = json{{"error", message}}.dump(
                      -1, ' ', false, json::error_handler_t::replace) +
                  "\n";
  return response;
}

HttpResponse MethodNotAllowed(const HttpRequest& request, bool json_body,
                              const char* allow) {
  std::string message = "method " + request.method + " is not allowed on " +
                        request.path + " (" + allow + ")";
  HttpResponse response =
      json_body ? JsonError(405, message)
                : Text(405, "405 method not allowed: " + request.method + " " +
                                request.path + "\n");
  response.headers.emplace_back("Allow", allow);
  return response;
}

// The configured headers (http_server_config.headers) on an answer.
void AddHeaders(const WebSecurity* security, HttpResponse* response) {
  if (security == nullptr) return;
  for (const auto& header : security->config.headers) {
    response->headers.push_back(header);
  }
}

}  // namespace

MetricsPage TextPage(std::string text) {
  return {std::make_shared<const std::string>(std::move(text)), false};
}

WebServer::WebServer(WebOptions options, WebHandlers handlers)
    : options_(std::move(options)),
      handlers_(std::move(handlers)),
      landing_page_(LandingPage(options_.telemetry_path)),
      server_(
          [this] {
            HttpServerOptions server = options_.server;
            server.listen_addresses = options_.listen_addresses;
            if (options_.security && options_.security()->tls) {
              // TLS stays on for the process's life (the watcher refuses
              // to turn it off); the certificate may change.
              server.tls = [security = options_.security] {
                return security()->tls;
              };
            }
            return server;
          }(),
          HttpHandlers{
              [this](const HttpRequest& request) { return Route(request); },
              [this](const HttpRequest& request) {
                return RunsInline(request);
              },
              [this](int status, const std::string& message,
                     const HttpRequest& request) {
                return Refuse(status, message, request);
              }}) {}

WebServer::~WebServer() { Stop(); }

bool WebServer::Start(std::string* error) { return server_.Start(error); }

void WebServer::Stop() { server_.Stop(); }

HttpResponse WebServer::Refuse(int status, const std::string& message,
                               const HttpRequest& request) const {
  HttpResponse response =
      IsTaskApiPath(request.path)
          ? JsonError(status, message)
          : Text(status, std::to_string(status) + " " +
                             std::string(StatusReason(status)) + ": " +
                             message + "\n");
  if (options_.security) AddHeaders(options_.security().get(), &response);
  return response;
}

bool WebServer::RunsInline(const HttpRequest& request) const {
  // Everything but the pages that take real work, and a password check
  // that needs bcrypt (tens of milliseconds by design).
  if (request.path == options_.telemetry_path || request.path == kReloadPath ||
      (request.path == "/" && handlers_.status_page) ||
      (IsTaskApiPath(request.path) && handlers_.task_api)) {
    return false;
  }
  return !options_.security || options_.security()->auth->IsCheap(request);
}

HttpResponse WebServer::Route(const HttpRequest& request) const {
  if (!options_.security) return RouteAllowed(request);
  // One snapshot for the whole request: a reload midway changes nothing.
  std::shared_ptr<const WebSecurity> security = options_.security();
  HttpResponse response;
  if (security->auth->Allowed(request)) {
    response = RouteAllowed(request);
  } else {
    // As prometheus/exporter-toolkit web/handler.go answers.
    response = IsTaskApiPath(request.path) ? JsonError(401, "Unauthorized")
                                           : Text(401, "Unauthorized\n");
    response.headers.emplace_back("WWW-Authenticate", "Basic");
  }
  AddHeaders(security.get(), &response);
  return response;
}

HttpResponse WebServer::RouteAllowed(const HttpRequest& request) const {
  const std::string& path = request.path;
  if (handlers_.task_api && IsTaskApiPath(path)) return TaskApi(request);
  if (path == kReloadPath) return Reload(request);
  if (!IsGetOrHead(request)) {
    return MethodNotAllowed(request, false, "GET, HEAD");
  }
  if (path == options_.telemetry_path) {
    HttpResponse response;
    response.content_type = std::string(metrics::kTextContentType);
    MetricsPage page = handlers_.metrics(request.AcceptsGzip());
    response.shared_body = std::move(page.body);
    if (page.gzip) response.content_encoding = "gzip";
    response.compressible = true;
    return response;
  }
  if (path == "/-/healthy") return Text(200, "Healthy.\n");
  if (path == "/-/ready") {
    if (handlers_.ready()) return Text(200, "Ready.\n");
    return Text(503, "Not ready: waiting for the first poll of every task.\n");
  }
  if (path == "/") {
    HttpResponse response;
    response.content_type = "text/html; charset=utf-8";
    response.compressible = true;
    if (handlers_.status_page) {
      response.headers.emplace_back("Cache-Control", "no-store");
      response.body = handlers_.status_page();
    } else {
      response.body = landing_page_;
    }
    return response;
  }
  return Text(404, "404 not found: " + request.method + " " + path + "\n");
}

HttpResponse WebServer::TaskApi(const HttpRequest& request) const {
  const bool collection =
      request.path == kTaskApiPath || request.path == "/api/v1/tasks/";
  const char* allow = collection ? "GET, POST" : "DELETE";
  if (collection ? request.method != "GET" && request.method != "POST"
                 : request.method != "DELETE") {
    return MethodNotAllowed(request, true, allow);
  }
  ApiCall call{request.method, request.path, {}, request.body};
  std::vector<std::pair<std::string, std::string>> query;
  std::string error;
  if (!ParseQuery(request.query, &query, &error)) return JsonError(400, error);
  for (auto& [name, value] : query) call.query.emplace(name, value);
  ApiReply reply = handlers_.task_api(call);
  HttpResponse response;
  response.status = reply.status;
  response.content_type = kJsonType;
  response.body = std::move(reply.body);
  return response;
}

// As Prometheus' web.go answers /-/reload: POST or PUT, 403 without the
// lifecycle API, 500 with the reason when the configuration was refused.
HttpResponse WebServer::Reload(const HttpRequest& request) const {
  if (request.method != "POST" && request.method != "PUT") {
    HttpResponse response = Text(405, "Only POST or PUT requests allowed.\n");
    response.headers.emplace_back("Allow", "POST, PUT");
    return response;
  }
  if (!handlers_.reload) {
    return Text(403,
                "Lifecycle API is not enabled. Start the exporter with "
                "--web.enable-lifecycle to reload over HTTP, or send it "
                "SIGHUP.\n");
  }
  std::string error;
  if (!handlers_.reload(&error)) {
    return Text(500, "failed to reload config: " + error + "\n");
  }
  return Text(200, "Configuration reloaded.\n");
}

}  // namespace sas::web
