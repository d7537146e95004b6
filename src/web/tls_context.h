#pragma once

// TLS for the HTTP server: an immutable OpenSSL server context built from a
// web config's tls_server_config, and one non-blocking session per
// connection. OpenSSL stays behind these two classes.

#include <cstddef>
#include <memory>
#include <string>

#include "web/web_config.h"

struct ssl_ctx_st;
struct ssl_st;

namespace sas::web {

// The PEM text of the files tls_server_config names.
struct TlsFiles {
  std::string cert;       // cert_file
  std::string key;        // key_file
  std::string client_ca;  // client_ca_file; empty when none is named
};

// A server context: certificate, key, protocol versions, cipher suites,
// curves and the client-certificate policy. Immutable once built, so
// thread-safe; connections hold it by shared_ptr, and a rotated
// certificate is a new TlsContext used by new connections.
class TlsContext {
 public:
  // nullptr with *error naming the file and the problem ("cert_file
  // /etc/x.pem: no PEM certificate in it"). Never quotes key material.
  static std::shared_ptr<const TlsContext> Create(const TlsServerConfig& config,
                                                  const TlsFiles& files,
                                                  std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // "subject=CN=exporter serial=1A expires=2027-01-01T00:00:00Z", for logs.
  const std::string& description() const { return description_; }
  ssl_ctx_st* native() const { return ctx_; }

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
  std::string description_;
};

// What a non-blocking TLS operation needs next.
enum class TlsStatus {
  kDone,       // finished (Read/Write: some bytes moved)
  kWantRead,   // wait until the socket is readable, then call again
  kWantWrite,  // wait until the socket is writable, then call again
  kClosed,     // the peer closed the connection
  kError,      // the connection is unusable; error() says why
};

// The server side of one TLS connection on a non-blocking socket. Keeps
// its context alive. Not thread-safe: the event loop owns it.
class TlsSession {
 public:
  TlsSession(std::shared_ptr<const TlsContext> context, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsStatus Handshake();
  // kDone with *n > 0 bytes in `buffer`.
  TlsStatus Read(char* buffer, size_t size, size_t* n);
  // kDone with *n > 0 bytes of `data` sent. After kWantWrite, call again
  // with the same bytes (the buffer may move).
  TlsStatus Write(const char* data, size_t size, size_t* n);
  // Sends close_notify if the socket takes it now; never waits.
  void Shutdown();
  // Why the last call returned kError (OpenSSL's reason, no secrets).
  const std::string& error() const { return error_; }

 private:
  TlsStatus Status(int result);

  std::shared_ptr<const TlsContext> context_;
  ssl_st* ssl_;
  std::string error_;
};

}  // namespace sas::web
