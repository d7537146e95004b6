#include "app/seams.h"

namespace sas::app {

Seams ProductionSeams() {
  static const std::unique_ptr<NonceSource> nonces = MakeRandomNonceSource();
  return Seams{RealClock(), ProcessEnvironment(), LocalFileSystem(), *nonces,
               [](const aliyun::TransportOptions& options) {
                 return aliyun::MakeHttplibTransport(options,
                                                     ProcessEnvironment());
               }};
}

}  // namespace sas::app
