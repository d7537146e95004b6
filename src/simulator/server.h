#pragma once

// The HTTP(S) front of the simulator: cpp-httplib, kept out of this header.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "simulator/service.h"

namespace httplib {
class Server;
}

namespace sas::simulator {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  // Both set: serve HTTPS with this PEM certificate chain and key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Worker threads; each keep-alive connection holds one while open.
  int threads = 64;
};

// Serves `GET /_simulator/stats`, `GET /_simulator/requests`,
// `GET /_simulator/fail` and `/_simulator/faults` (no signature) and passes
// every other request to the service (Security Center, STS, the metadata
// service), waiting out the latency the service asks for (cut short by
// Stop()) and breaking the answers the service says to break (reset,
// truncate). While a stall fault is active, new connections are accepted
// but never served and API requests on open ones wait. Keep-alive: up to
// 100000 requests per
// connection, 30 s idle timeout. Start() and Stop() are called from one
// thread; the service is called from the worker threads.
class Server {
 public:
  // `service` must outlive the server.
  Server(Service& service, ServerOptions options);
  ~Server();  // Stops.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving in the background. False (with *error set) if
  // the TLS files are unusable or the address cannot be bound.
  bool Start(std::string* error);
  // The bound port; valid after Start() succeeded.
  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (https with TLS; IPv6 hosts in brackets).
  std::string Url() const;
  // Stops accepting, ends pending latency waits, shuts down open (also idle
  // keep-alive) connections and joins the workers. Returns promptly.
  // Idempotent.
  void Stop();

 private:
  // True while a stall fault is active and Stop() was not called.
  bool Stalled();
  // Waits `delay` unless Stop() is called first.
  void Delay(Millis delay);

  Service& service_;
  const ServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;

  std::mutex mutex_;
  std::condition_variable cv_;
  // Guarded by mutex_.
  bool stopping_ = false;
  bool listener_done_ = false;
};

}  // namespace sas::simulator
