#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "web/http_request.h"

namespace sas::web {

class TlsContext;

// An answer to one request.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Further fields, e.g. {"Allow", "GET, HEAD"}. Never Content-Length,
  // Connection or Content-Encoding: the server sets those.
  std::vector<std::pair<std::string, std::string>> headers;
  // Sent gzip-encoded when the client accepts it (and answered with "Vary:
  // Accept-Encoding" either way).
  bool compressible = false;
  // Set: the body, shared with other answers (a page rendered once for
  // several requests) and sent without a copy; `body` is then ignored.
  std::shared_ptr<const std::string> shared_body;
  // The body is encoded so already ("gzip", for a client that accepts it):
  // sent with this Content-Encoding and never compressed again.
  std::string content_encoding;
};

struct HttpServerOptions {
  // "host:port", ":port" (every interface) or "[v6]:port"; port 0 picks one.
  std::vector<std::string> listen_addresses{":10075"};
  HttpLimits limits;
  // Open connections at the most. When a new one arrives at the limit, the
  // longest-idle keep-alive connection is closed to make room; when none is
  // idle, new connections wait in the kernel's queue.
  int max_connections = 256;
  // From a request's first byte: the head must have arrived within
  // read_header_timeout and the whole request within read_timeout (408).
  std::chrono::milliseconds read_header_timeout{5'000};
  std::chrono::milliseconds read_timeout{10'000};
  // A whole answer must be taken by the client within this time.
  std::chrono::milliseconds write_timeout{10'000};
  // A keep-alive connection with no request under way is closed after this.
  std::chrono::milliseconds idle_timeout{15'000};
  // Threads that run handlers which are not inline.
  int handler_threads = 4;
  // Set: every connection speaks TLS, with the context this returns when
  // the connection is accepted (so a rotated certificate serves new
  // connections). Called on the event loop: must be cheap, never null. The
  // handshake must finish within read_header_timeout of the accept.
  std::function<std::shared_ptr<const TlsContext>()> tls;
};

// What the server asks of its user. Thread-safe: handle runs on several
// handler threads at once.
struct HttpHandlers {
  // Answers a well-formed request.
  std::function<HttpResponse(const HttpRequest&)> handle;
  // True for a request whose handler is cheap and never blocks (health,
  // readiness, a 404): it runs on the event loop, so it is answered even
  // while every handler thread is busy. Unset: nothing runs inline.
  std::function<bool(const HttpRequest&)> runs_inline;
  // The answer when the server refuses a request itself (400, 408, 413,
  // 415, 431, 501, 505). `request` has the method and path when the head
  // was read, else it is empty. Unset: a plain-text message.
  std::function<HttpResponse(int status, const std::string& message,
                             const HttpRequest& request)>
      refuse;
};

// Counters since start, for self-monitoring. Thread-safe reads.
struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_evicted = 0;   // idle ones closed to admit another
  uint64_t requests = 0;              // answered, refusals included
  uint64_t refused = 0;               // answered with a status of the server
  uint64_t timeouts = 0;              // closed for a read or write deadline
  uint64_t tls_handshake_errors = 0;  // TLS connections closed in handshake
  int open_connections = 0;
};

// An HTTP/1.1 server on one epoll event loop: reading, writing and
// deadlines never hold a thread, so slow or idle clients cannot starve
// others. Keep-alive, pipelined requests (answered in order), "Expect:
// 100-continue", chunked and gzip request bodies within HttpLimits, gzip
// answers. Range requests are not served: a Range field is ignored and the
// whole answer sent. Start and Stop from one thread.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandlers handlers);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds every address and starts serving. On failure returns false with
  // *error naming the address; nothing is left listening.
  bool Start(std::string* error);
  // "127.0.0.1:43117", one per listener, after Start.
  const std::vector<std::string>& bound_addresses() const {
    return bound_addresses_;
  }
  // Closes every listener and connection; handlers under way finish first.
  void Stop();
  HttpServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> bound_addresses_;
};

struct ListenAddress {
  std::string host;  // "" for every interface
  int port = 0;
};
// Parses a listen address as HttpServerOptions describes; false with *error.
bool ParseListenAddress(std::string_view text, ListenAddress* out,
                        std::string* error);

// The reason phrase of a status code: "Not Found".
std::string_view StatusReason(int status);

}  // namespace sas::web
