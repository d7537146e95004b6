#include "app/seams.h"

#include "aliyun/event_loop_transport.h"

namespace sas::app {

Seams ProductionSeams() {
  static const std::unique_ptr<NonceSource> nonces = MakeRandomNonceSource();
  return Seams{RealClock(), ProcessEnvironment(), LocalFileSystem(), *nonces,
               [](const aliyun::TransportOptions& options) {
                 return aliyun::MakeHttplibTransport(options,
                                                     ProcessEnvironment());
               },
               [](EventLoop& loop, const aliyun::TransportOptions& options) {
                 return aliyun::MakeEventLoopTransport(loop, options,
                                                       ProcessEnvironment());
               }};
}

}  // namespace sas::app
