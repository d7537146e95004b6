#pragma once

#include <functional>
#include <memory>

#include "aliyun/http.h"
#include "aliyun/httplib_transport.h"
#include "util/clock.h"
#include "util/environment.h"
#include "util/event_loop.h"
#include "util/file_system.h"
#include "util/nonce.h"

namespace sas::app {

// Everything the exporter takes from the world outside the process, handed
// in by main (as leveldb's Env is): tests build an exporter on fakes and
// drive it exactly. Each member must outlive the ExporterApp built with it
// and be thread-safe.
struct Seams {
  Clock& clock;
  const Environment& environment;
  FileSystem& files;
  NonceSource& nonces;
  // Makes one HTTP transport (accounts' clients, STS, the metadata service).
  std::function<std::unique_ptr<aliyun::HttpTransport>(
      const aliyun::TransportOptions&)>
      make_transport;
  // Makes the transport an account's polls use, on the poller's event
  // loop; called on any thread. When unset, polls go through
  // make_transport's, blocking the loop (fakes that answer at once).
  std::function<std::unique_ptr<aliyun::AsyncHttpTransport>(
      EventLoop&, const aliyun::TransportOptions&)>
      make_async_transport;
};

// The real clock, the process environment, the local disk, random nonces,
// cpp-httplib transports and event-loop transports for polls, both
// honouring the environment's proxy settings.
Seams ProductionSeams();

}  // namespace sas::app
