#include "web/health_check.h"

#include <httplib.h>

#include "web/http_server.h"

namespace sas::web {

HealthCheckResult CheckHealth(std::string_view listen_address,
                              std::chrono::milliseconds timeout) {
  ListenAddress address;
  std::string error;
  if (!ParseListenAddress(listen_address, &address, &error)) {
    return {false, error};
  }
  if (address.port == 0) {
    return {false, "listen address \"" + std::string(listen_address) +
                       "\" has port 0: give the port the exporter listens on"};
  }
  std::string host = address.host;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const bool v6 = host.find(':') != std::string::npos;
  std::string url = "http://";
  url += v6 ? "[" + host + "]" : host;
  url += ':';
  url += std::to_string(address.port);
  url += "/-/healthy";

  httplib::Client client(host, address.port);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  httplib::Result result = client.Get("/-/healthy");
  if (!result) {
    return {false, "GET " + url + ": " + httplib::to_string(result.error())};
  }
  std::string message = "GET " + url + ": " + std::to_string(result->status);
  return {result->status == 200, std::move(message)};
}

}  // namespace sas::web
