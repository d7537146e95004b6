#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sas::aliyun {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Where requests go: scheme "https" (default) or "http", a host and a port.
struct Endpoint {
  std::string scheme = "https";
  // Lowercase; an IPv6 address without its brackets ("::1").
  std::string host;
  int port = 443;

  // The Host header value: host, plus ":port" when it is not the default.
  std::string HostHeader() const;
  // "https://tds.cn-shanghai.aliyuncs.com" (port only when not default).
  std::string Url() const;
  bool operator==(const Endpoint&) const = default;
};

// Parses "https://host[:port][/]" or "http://host[:port][/]"; a bare host
// means https. IPv6 hosts in brackets. Returns nullopt and sets *error on
// anything else (a path, a query, credentials in the URL, a bad port). The
// messages never quote the URL, which may carry a password.
std::optional<Endpoint> ParseEndpoint(std::string_view url, std::string* error);

struct HttpRequest {
  std::string method = "POST";
  Endpoint endpoint;
  // Path and query as sent on the wire: "/?ExportId=1".
  std::string target = "/";
  Headers headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  // Names lowercased.
  Headers headers;
  std::string body;

  // The first header with this lowercase name, or nullopt.
  std::optional<std::string> Header(std::string_view lowercase_name) const;
};

// Why a request produced no HTTP response.
enum class TransportError {
  kNone,
  kTimeout,       // connect or read timed out
  kConnection,    // refused, reset, DNS failure, proxy failure
  kTls,           // handshake or certificate verification failed
  kBodyTooLarge,  // the response exceeded a limit (body size, header count)
  kCancelled,     // CancelAll() was called (shutdown)
};

struct TransportResult {
  TransportError error = TransportError::kNone;
  // Human-readable detail on failure; never contains request headers.
  std::string detail;
  HttpResponse response;
};

// The HTTP seam. Implementations are thread-safe: Send() may be called from
// several threads at once.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual TransportResult Send(const HttpRequest& request) = 0;
  // Aborts every request in flight (they return kCancelled) and every later
  // one. Used at shutdown.
  virtual void CancelAll() = 0;
};

// The poller's HTTP seam: requests on one EventLoop (util/event_loop.h)
// without blocking it. Send and CancelAll are called on the loop's thread.
// `done` runs exactly once per Send, on the loop's thread, never inside
// Send itself. Destroy the transport on the loop's thread or while the loop
// is not running; callbacks of requests still in flight are then destroyed
// without being called.
class AsyncHttpTransport {
 public:
  using Done = std::function<void(TransportResult)>;
  virtual ~AsyncHttpTransport() = default;
  virtual void Send(HttpRequest request, Done done) = 0;
  // Completes every request in flight with kCancelled (their `done` may run
  // inside CancelAll).
  virtual void CancelAll() = 0;
};

}  // namespace sas::aliyun
