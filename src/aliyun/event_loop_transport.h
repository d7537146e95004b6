#pragma once

#include <memory>

#include "aliyun/http.h"
#include "aliyun/httplib_transport.h"
#include "util/environment.h"
#include "util/event_loop.h"

namespace sas::aliyun {

// The poller's transport: HTTP/1.1 with non-blocking sockets on `loop`'s
// thread, so a request on a warm connection costs one send, the epoll
// wake-up and one recv (SSL_write and SSL_read for HTTPS).
//
// Same behaviour and error kinds as MakeHttplibTransport: HTTPS verifies the
// server's certificate and name against the system store plus
// options.ca_file (TLS 1.2 at least); HTTPS_PROXY / HTTP_PROXY / NO_PROXY as
// ProxyFor says (https through a CONNECT tunnel, http in absolute form);
// each endpoint keeps a pool of idle keep-alive connections, reused last in
// first out, and a request that finds none idle opens another. A reused
// connection that fails before any byte of the answer is retried once on a
// new one (the requests are idempotent reads). Timeouts: connecting (TCP,
// proxy tunnel and TLS handshake) within connect_timeout; each wait for the
// peer within request_timeout; the whole attempt within connect_timeout +
// 2 * request_timeout. Host names are resolved on a thread of the
// transport's own; IP literals need none.
//
// The AsyncHttpTransport contract holds: Send and CancelAll on the loop's
// thread; construct anywhere; destroy on the loop's thread or while it is
// not running. `env` must outlive the transport; it is read at each new
// connection.
std::unique_ptr<AsyncHttpTransport> MakeEventLoopTransport(
    EventLoop& loop, TransportOptions options, const Environment& env);

}  // namespace sas::aliyun
