#include "web/health_check.h"

#include <httplib.h>

#include <memory>

#include "web/http_server.h"

namespace sas::web {
namespace {

bool PresentsServerCertificate(ClientAuth mode) {
  return mode == ClientAuth::kRequireAnyClientCert ||
         mode == ClientAuth::kRequireAndVerifyClientCert;
}

std::unique_ptr<httplib::ClientImpl> MakeClient(const std::string& host,
                                                int port,
                                                const WebConfig* web_config) {
  if (web_config == nullptr || !web_config->tls_enabled) {
    return std::make_unique<httplib::ClientImpl>(host, port);
  }
  std::unique_ptr<httplib::SSLClient> client;
  if (PresentsServerCertificate(web_config->tls.client_auth)) {
    client = std::make_unique<httplib::SSLClient>(
        host, port, web_config->tls.cert_file, web_config->tls.key_file);
  } else {
    client = std::make_unique<httplib::SSLClient>(host, port);
  }
  client->enable_server_certificate_verification(false);
  return client;
}

}  // namespace

HealthCheckResult CheckHealth(std::string_view listen_address,
                              std::chrono::milliseconds timeout,
                              const WebConfig* web_config) {
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
  const bool tls = web_config != nullptr && web_config->tls_enabled;
  std::string url = tls ? "https://" : "http://";
  url += v6 ? "[" + host + "]" : host;
  url += ':';
  url += std::to_string(address.port);
  url += "/-/healthy";

  std::unique_ptr<httplib::ClientImpl> client =
      MakeClient(host, address.port, web_config);
  if (!client->is_valid()) {
    return {false, "GET " + url + ": cannot use the listener's cert_file " +
                       web_config->tls.cert_file + " and key_file " +
                       web_config->tls.key_file + " as the client certificate"};
  }
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  httplib::Result result = client->Get("/-/healthy");
  if (!result) {
    std::string message =
        "GET " + url + ": " + httplib::to_string(result.error());
    if (tls && PresentsServerCertificate(web_config->tls.client_auth)) {
      message +=
          " (the listener requires a client certificate; --healthcheck "
          "presented the listener's own cert_file, which its client CA must "
          "accept)";
    }
    return {false, std::move(message)};
  }
  std::string message = "GET " + url + ": " + std::to_string(result->status);
  if (result->status == 200) return {true, std::move(message)};
  if (result->status == 401 && web_config != nullptr &&
      !web_config->users.empty()) {
    return {true, message +
                      " (up; basic auth asks for a password the "
                      "probe does not have)"};
  }
  return {false, std::move(message)};
}

}  // namespace sas::web
