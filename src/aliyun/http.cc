#include "aliyun/http.h"

#include <charconv>

#include "util/strings.h"

namespace sas::aliyun {
namespace {

int DefaultPort(std::string_view scheme) { return scheme == "http" ? 80 : 443; }

bool IsHostnameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

std::optional<Endpoint> Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

std::string Endpoint::HostHeader() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out = "[" + host + "]";
  } else {
    out = host;
  }
  if (port != DefaultPort(scheme)) {
    // Appended in two steps: GCC 12 at -O3 warns (-Wrestrict, a false
    // positive) about ":" + std::to_string(...).
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string Endpoint::Url() const { return scheme + "://" + HostHeader(); }

std::optional<Endpoint> ParseEndpoint(std::string_view url,
                                      std::string* error) {
  // Error messages never quote the URL: it may carry credentials.
  Endpoint endpoint;
  if (url.empty()) return Fail(error, "endpoint is empty");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Fail(error, "endpoint contains whitespace or control characters");
    }
  }

  std::string_view rest = url;
  size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string scheme = ToLower(rest.substr(0, scheme_end));
    if (scheme != "https" && scheme != "http") {
      bool printable =
          !scheme.empty() && scheme.size() <= 16 &&
          scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+-.") ==
              std::string::npos;
      return Fail(error, "endpoint scheme " +
                             (printable ? "\"" + scheme + "\" " : "") +
                             "is not supported (use https:// or http://)");
    }
    endpoint.scheme = scheme;
    rest.remove_prefix(scheme_end + 3);
  }
  endpoint.port = DefaultPort(endpoint.scheme);

  if (rest.find('#') != std::string_view::npos) {
    return Fail(error, "endpoint must not contain a fragment ('#')");
  }
  if (rest.find('?') != std::string_view::npos) {
    return Fail(error, "endpoint must not contain a query ('?')");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos && rest.substr(slash) != "/") {
    return Fail(error,
                "endpoint must not contain a path (give scheme, host and "
                "port only, e.g. https://tds.cn-shanghai.aliyuncs.com)");
  }
  if (authority.find('@') != std::string_view::npos) {
    return Fail(error,
                "endpoint must not contain credentials (user:password@); "
                "configure credentials separately");
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Fail(error, "endpoint IPv6 address is missing its closing ']'");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Fail(error, "endpoint has unexpected text after ']'");
      }
      has_port = true;
      port_text = after.substr(1);
    }
    if (host.empty()) return Fail(error, "endpoint host is empty");
    for (char c : host) {
      if (!IsIpv6Char(c)) {
        return Fail(error, "endpoint IPv6 address is malformed");
      }
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return Fail(error,
                  "endpoint host has several ':' (put an IPv6 address in "
                  "brackets: https://[::1]:8443)");
    }
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) return Fail(error, "endpoint host is empty");
    for (char c : host) {
      if (!IsHostnameChar(c)) {
        return Fail(error, "endpoint host contains an invalid character");
      }
    }
  }

  if (has_port) {
    if (port_text.empty()) return Fail(error, "endpoint port is empty");
    for (char c : port_text) {
      if (c < '0' || c > '9') {
        return Fail(error, "endpoint port is not a number");
      }
    }
    int port = 0;
    auto parsed = std::from_chars(port_text.data(),
                                  port_text.data() + port_text.size(), port);
    if (parsed.ec != std::errc() || port < 1 || port > 65535) {
      std::string shown =
          port_text.size() <= 10 ? std::string(port_text) + " " : "";
      return Fail(error, "endpoint port " + shown + "is out of range 1..65535");
    }
    endpoint.port = port;
  }
  endpoint.host = ToLower(host);
  return endpoint;
}

std::optional<std::string> HttpResponse::Header(
    std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name.size() == lowercase_name.size() &&
        ToLower(name) == lowercase_name) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace sas::aliyun
