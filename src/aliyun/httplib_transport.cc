#include "aliyun/httplib_transport.h"

#include <httplib.h>
#include <openssl/x509.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "util/strings.h"

namespace sas::aliyun {
namespace {

std::string EndpointKey(const Endpoint& endpoint) {
  return endpoint.scheme + "://" + endpoint.host + ":" +
         std::to_string(endpoint.port);
}

template <typename Duration>
void SplitDuration(Duration d, time_t* sec, time_t* usec) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  *sec = static_cast<time_t>(us / 1'000'000);
  *usec = static_cast<time_t>(us % 1'000'000);
}

class HttplibTransport : public HttpTransport {
 public:
  HttplibTransport(TransportOptions options, const Environment& env)
      : options_(std::move(options)),
        env_(env),
        attempt_deadline_(options_.connect_timeout +
                          2 * options_.request_timeout),
        watchdog_([this] { WatchDeadlines(); }) {}

  ~HttplibTransport() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    watchdog_wake_.notify_all();
    watchdog_.join();
  }

  TransportResult Send(const HttpRequest& request) override {
    std::unique_ptr<httplib::Client> client = Checkout(request.endpoint);
    if (!client) return {TransportError::kCancelled, "shutting down", {}};

    httplib::Request http_request;
    http_request.method = request.method;
    http_request.path = request.target;
    for (const auto& [name, value] : request.headers) {
      http_request.headers.emplace(name, value);
    }
    http_request.body = request.body;
    std::string body;
    bool too_large = false;
    http_request.content_receiver = [&](const char* data, size_t length,
                                        uint64_t, uint64_t) {
      if (body.size() + length > options_.max_body_bytes) {
        too_large = true;
        return false;
      }
      body.append(data, length);
      return true;
    };

    auto started = std::chrono::steady_clock::now();
    httplib::Result result = client->send(http_request);
    auto elapsed = std::chrono::steady_clock::now() - started;
    TransportResult out;
    bool overdue = Return(request.endpoint, std::move(client), result);
    if (result && result->headers.size() > options_.max_header_count) {
      out.error = TransportError::kBodyTooLarge;
      out.detail = "response with more than " +
                   std::to_string(options_.max_header_count) + " header fields";
    } else if (result) {
      out.response.status = result->status;
      for (const auto& [name, value] : result->headers) {
        out.response.headers.emplace_back(ToLower(name), value);
      }
      out.response.body = std::move(body);
    } else if (overdue) {
      out.error = TransportError::kTimeout;
      out.detail = "answer not complete within " +
                   std::to_string(attempt_deadline_.count()) + " ms";
    } else if (too_large) {
      out.error = TransportError::kBodyTooLarge;
      out.detail = "response body larger than " +
                   std::to_string(options_.max_body_bytes) + " bytes";
    } else {
      out.error = Classify(result.error());
      bool took_the_timeout = elapsed >= options_.request_timeout * 9 / 10;
      // A read or write error is a timeout only when it took that long;
      // otherwise the peer closed or reset the connection.
      if (out.error == TransportError::kTimeout &&
          result.error() != httplib::Error::ConnectionTimeout &&
          !took_the_timeout) {
        out.error = TransportError::kConnection;
      }
      // A handshake the server never answers fails as SSLConnection once
      // the read timeout passes: a timeout (retried), not a certificate or
      // protocol failure.
      if (result.error() == httplib::Error::SSLConnection && took_the_timeout) {
        out.error = TransportError::kTimeout;
      }
      out.detail = httplib::to_string(result.error());
    }
    if (out.error != TransportError::kNone && IsCancelled()) {
      out.error = TransportError::kCancelled;
      out.detail = "shutting down";
    }
    return out;
  }

  void CancelAll() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    for (auto& [client, deadline] : in_use_) client->stop();
    idle_.clear();
  }

 private:
  static TransportError Classify(httplib::Error error) {
    switch (error) {
      case httplib::Error::ConnectionTimeout:
        return TransportError::kTimeout;
      // A read that hits the read timeout surfaces as Read.
      case httplib::Error::Read:
      case httplib::Error::Write:
        return TransportError::kTimeout;
      case httplib::Error::SSLConnection:
      case httplib::Error::SSLLoadingCerts:
      case httplib::Error::SSLServerVerification:
        return TransportError::kTls;
      case httplib::Error::Canceled:
        return TransportError::kCancelled;
      default:
        return TransportError::kConnection;
    }
  }

  bool IsCancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  std::unique_ptr<httplib::Client> Checkout(const Endpoint& endpoint) {
    std::unique_ptr<httplib::Client> client;
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return nullptr;
      auto& idle = idle_[EndpointKey(endpoint)];
      if (!idle.empty()) {
        client = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (!client) client = Connect(endpoint);
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return nullptr;
      in_use_[client.get()] = {
          std::chrono::steady_clock::now() + attempt_deadline_, false};
    }
    // No wake-up for the watchdog: it never sleeps past now +
    // attempt_deadline_, and every deadline is later than that.
    return client;
  }

  // Ends an attempt: a client whose answer came in full and in time goes
  // back to the pool. True when the watchdog stopped it for its deadline.
  bool Return(const Endpoint& endpoint, std::unique_ptr<httplib::Client> client,
              const httplib::Result& result) {
    std::lock_guard lock(mutex_);
    auto it = in_use_.find(client.get());
    bool overdue = it->second.overdue;
    in_use_.erase(it);
    if (result && !overdue && !cancelled_ &&
        result->headers.size() <= options_.max_header_count) {
      idle_[EndpointKey(endpoint)].push_back(std::move(client));
    }
    return overdue;
  }

  // The watchdog: stops each client still in use at its deadline. Every
  // deadline is its attempt's start + attempt_deadline_, so sleeping until
  // the earliest one, or attempt_deadline_ when none is pending, never
  // misses one and needs no wake-up per attempt (a futex call and a
  // context switch on every poll).
  void WatchDeadlines() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      auto now = std::chrono::steady_clock::now();
      auto next = now + attempt_deadline_;
      for (auto& [client, attempt] : in_use_) {
        if (attempt.overdue) continue;
        if (attempt.deadline <= now) {
          attempt.overdue = true;
          client->stop();
        } else {
          next = std::min(next, attempt.deadline);
        }
      }
      watchdog_wake_.wait_until(lock, next);
    }
  }

  std::unique_ptr<httplib::Client> Connect(const Endpoint& endpoint) {
    std::string base = endpoint.scheme + "://" +
                       (endpoint.host.find(':') != std::string::npos
                            ? "[" + endpoint.host + "]"
                            : endpoint.host) +
                       ":" + std::to_string(endpoint.port);
    auto client = std::make_unique<httplib::Client>(base);
    time_t sec, usec;
    SplitDuration(options_.connect_timeout, &sec, &usec);
    client->set_connection_timeout(sec, usec);
    SplitDuration(options_.request_timeout, &sec, &usec);
    client->set_read_timeout(sec, usec);
    client->set_write_timeout(sec, usec);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_url_encode(false);
    client->set_decompress(true);
    client->set_follow_location(false);
    if (endpoint.scheme == "https") {
      client->enable_server_certificate_verification(true);
      client->set_ca_cert_store(MakeTrustStore());
    }
    ProxySettings proxy = ProxyFor(endpoint.scheme, endpoint.host, env_);
    if (!proxy.host.empty()) {
      client->set_proxy(proxy.host, proxy.port);
      if (!proxy.username.empty()) {
        client->set_proxy_basic_auth(proxy.username, proxy.password);
      }
    }
    return client;
  }

  // The system store plus ca_file; the client's SSL context takes ownership.
  X509_STORE* MakeTrustStore() const {
    X509_STORE* store = X509_STORE_new();
    X509_STORE_set_default_paths(store);
    if (!options_.ca_file.empty()) {
      X509_STORE_load_file(store, options_.ca_file.c_str());
    }
    return store;
  }

  struct Attempt {
    std::chrono::steady_clock::time_point deadline;
    bool overdue = false;  // stopped by the watchdog
  };

  const TransportOptions options_;
  const Environment& env_;
  const Millis attempt_deadline_;
  std::mutex mutex_;
  std::condition_variable watchdog_wake_;
  // Guarded by mutex_.
  bool cancelled_ = false;
  bool stopping_ = false;
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;
  std::map<httplib::Client*, Attempt> in_use_;
  // Last: started once everything it reads is constructed.
  std::thread watchdog_;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeHttplibTransport(TransportOptions options,
                                                    const Environment& env) {
  return std::make_unique<HttplibTransport>(std::move(options), env);
}

}  // namespace sas::aliyun
