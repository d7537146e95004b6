#pragma once

#include <chrono>
#include <string>
#include <string_view>

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
HealthCheckResult CheckHealth(std::string_view listen_address,
                              std::chrono::milliseconds timeout);

}  // namespace sas::web
