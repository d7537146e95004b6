#include "aliyun/proxy.h"

#include <initializer_list>
#include <optional>

#include "util/strings.h"

namespace sas::aliyun {
namespace {

std::optional<std::string> FirstSet(const Environment& env,
                                    std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto value = env.Get(name);
    if (value && !value->empty()) return value;
  }
  return std::nullopt;
}

// NO_PROXY: comma-separated hosts or domain suffixes (".example.com" or
// "example.com" both match sub.example.com); "*" matches everything.
bool NoProxyMatches(std::string_view host, std::string_view no_proxy) {
  std::string lower_host = ToLower(host);
  for (const std::string& raw : Split(no_proxy, ',')) {
    std::string entry = ToLower(Trim(raw));
    if (entry.empty()) continue;
    if (entry == "*") return true;
    // Strip a port: entries like "localhost:8080" match the host.
    if (auto colon = entry.rfind(':'); colon != std::string::npos &&
                                       entry.find(']') == std::string::npos &&
                                       entry.find(':') == colon) {
      entry.resize(colon);
    }
    if (entry.front() == '.') entry.erase(0, 1);
    if (lower_host == entry) return true;
    if (lower_host.size() > entry.size() &&
        lower_host.compare(lower_host.size() - entry.size(), entry.size(),
                           entry) == 0 &&
        lower_host[lower_host.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

}  // namespace

ProxySettings ProxyFor(std::string_view scheme, std::string_view host,
                       const Environment& env) {
  ProxySettings settings;
  std::optional<std::string> url =
      scheme == "https" ? FirstSet(env, {"HTTPS_PROXY", "https_proxy"})
                        : FirstSet(env, {"HTTP_PROXY", "http_proxy"});
  if (!url) return settings;
  if (auto no_proxy = FirstSet(env, {"NO_PROXY", "no_proxy"});
      no_proxy && NoProxyMatches(host, *no_proxy)) {
    return settings;
  }
  std::string_view rest = *url;
  if (auto scheme_end = rest.find("://"); scheme_end != std::string::npos) {
    rest.remove_prefix(scheme_end + 3);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    settings.username = std::string(userinfo.substr(0, colon));
    if (colon != std::string::npos) {
      settings.password = std::string(userinfo.substr(colon + 1));
    }
  }
  int port = 80;
  if (auto colon = rest.rfind(':');
      colon != std::string::npos &&
      rest.find(']', colon) == std::string::npos) {
    try {
      port = std::stoi(std::string(rest.substr(colon + 1)));
    } catch (...) {
      return ProxySettings{};
    }
    rest = rest.substr(0, colon);
  }
  if (!rest.empty() && rest.front() == '[' && rest.back() == ']') {
    rest = rest.substr(1, rest.size() - 2);
  }
  settings.host = std::string(rest);
  settings.port = port;
  return settings;
}

}  // namespace sas::aliyun
