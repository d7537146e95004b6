#pragma once

#include <string>
#include <string_view>

#include "util/environment.h"

namespace sas::aliyun {

// The proxy to use for a URL scheme and host, from the environment, as
// "host:port" plus optional credentials; empty host when none applies.
// HTTPS_PROXY / HTTP_PROXY (or their lowercase forms) by scheme, unless
// NO_PROXY (or no_proxy) matches the host: comma-separated hosts or domain
// suffixes (".example.com" or "example.com" both match sub.example.com),
// "*" for every host.
struct ProxySettings {
  std::string host;
  int port = 0;
  std::string username;
  std::string password;
};
ProxySettings ProxyFor(std::string_view scheme, std::string_view host,
                       const Environment& env);

}  // namespace sas::aliyun
