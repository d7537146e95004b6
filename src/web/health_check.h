#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "web/web_config.h"

namespace sas::web {

struct HealthCheckResult {
  bool healthy = false;
  // "GET http://127.0.0.1:10075/-/healthy: 200" or what went wrong.
  std::string message;
};

// `aliyun_sas_exporter --healthcheck`: asks the exporter listening on
// listen_address (a --web.listen-address value) for /-/healthy, so that a
// container HEALTHCHECK needs no curl. An address of every interface (":p",
// "0.0.0.0:p", "[::]:p") is reached through loopback of the same family.
// Healthy only on a 200 answer within timeout.
//
// With the exporter's --web.config.file (`web_config` non-null):
// - TLS listeners are asked over https. The server certificate is not
//   verified: this is a liveness probe of the process's own listener, not
//   a check of its identity. When client_auth_type requires a certificate
//   (RequireAnyClientCert, RequireAndVerifyClientCert), the listener's own
//   cert_file and key_file are presented, which a client CA that signed
//   them accepts.
// - With basic_auth_users, a 401 answer counts as healthy: the exporter
//   answered, and the probe has no password (the file holds only hashes).
HealthCheckResult CheckHealth(std::string_view listen_address,
                              std::chrono::milliseconds timeout,
                              const WebConfig* web_config = nullptr);

}  // namespace sas::web
