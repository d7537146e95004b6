#pragma once

#include <memory>
#include <string>

#include "aliyun/http.h"
#include "aliyun/proxy.h"
#include "util/duration.h"
#include "util/environment.h"

namespace sas::aliyun {

struct TransportOptions {
  Millis connect_timeout{5'000};
  // Bounds each read and write of one attempt. The whole attempt, from
  // connecting to the answer's last byte, must also end within
  // connect_timeout + 2 * request_timeout (kTimeout), so a peer that
  // trickles an answer a header at a time cannot hold a poll (or grow its
  // headers) for ever.
  Millis request_timeout{10'000};
  // Extra trusted certificates (PEM), in addition to the system store.
  std::string ca_file;
  // Larger response bodies fail with kBodyTooLarge.
  size_t max_body_bytes = 1 << 20;
  // Answers with more header fields fail with kBodyTooLarge (cpp-httplib
  // itself refuses a header line over 8 KiB).
  size_t max_header_count = 100;
};

// The production transport: cpp-httplib over OpenSSL. HTTPS verifies the
// server certificate and host name against the system trust store plus
// ca_file. Connections are kept alive and reused per endpoint (a pool of idle
// connections, one per concurrent caller). HTTPS_PROXY / HTTP_PROXY (or their
// lowercase forms) are honoured unless NO_PROXY matches the host. A watchdog
// thread enforces each attempt's overall deadline. Thread-safe.
std::unique_ptr<HttpTransport> MakeHttplibTransport(TransportOptions options,
                                                    const Environment& env);

}  // namespace sas::aliyun
