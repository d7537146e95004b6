#pragma once

#include <functional>
#include <memory>

#include "aliyun/http.h"
#include "aliyun/httplib_transport.h"
#include "util/clock.h"
#include "util/environment.h"
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
};

// The real clock, the process environment, the local disk, random nonces
// and cpp-httplib transports honouring the environment's proxy settings.
Seams ProductionSeams();

}  // namespace sas::app
