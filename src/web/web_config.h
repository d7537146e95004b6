#pragma once

// --web.config.file: the Prometheus exporter-toolkit web configuration
// (prometheus/exporter-toolkit docs/web-configuration.md), as the toolkit
// release that Debian 12's promtool carries reads it: strict YAML (unknown
// or repeated keys are errors), relative paths against the file's
// directory, and the toolkit's own checks (web/tls_config.go,
// web/handler.go). A few files the toolkit accepts but could never serve
// are refused here; web_config.cc says which.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::web {

// tls_server_config.client_auth_type, named as Go's crypto/tls names them.
enum class ClientAuth {
  kNoClientCert,                // default
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required, verified when sent
  kRequireAndVerifyClientCert,  // required and verified (mutual TLS)
};

// TLS protocol versions; values as on the wire (0x0301 = TLS 1.0).
enum class TlsVersion : int {
  kTls10 = 0x0301,
  kTls11 = 0x0302,
  kTls12 = 0x0303,
  kTls13 = 0x0304,
};

struct TlsServerConfig {
  // Paths as resolved against the web config file's directory.
  std::string cert_file;  // PEM: the certificate, then any intermediates
  std::string key_file;   // PEM: its private key, unencrypted
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  // PEM CA certificates that sign client certificates. Empty: the system's
  // trust store, as Go does, for the modes that verify.
  std::string client_ca_file;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // OpenSSL names of the TLS 1.0-1.2 suites listed (cipher_suites holds Go
  // names), in order; empty: OpenSSL's defaults.
  std::vector<std::string> tls12_ciphers;
  // OpenSSL names of the TLS 1.3 suites listed; empty: all.
  std::vector<std::string> tls13_ciphers;
  // True when cipher_suites was given but named no TLS 1.0-1.2 suite: Go
  // then has none for those versions, so only TLS 1.3 can be negotiated.
  bool tls12_disabled = false;
  bool prefer_server_cipher_suites = true;
  // OpenSSL group names ("P-256", "X25519"); empty: OpenSSL's defaults.
  std::vector<std::string> curves;
};

struct WebConfig {
  // Whether the listener speaks TLS: any of cert_file, key_file,
  // client_auth_type or client_ca_file set, as the toolkit decides.
  bool tls_enabled = false;
  TlsServerConfig tls;
  // http_server_config.headers, added to every answer. Only the fields the
  // toolkit allows (see kAllowedHeaders in web_config.cc).
  std::vector<std::pair<std::string, std::string>> headers;
  // basic_auth_users: user name -> bcrypt hash ($2a$, $2b$ or $2y$). Empty:
  // no authentication.
  std::map<std::string, std::string> users;
};

// Parses the text of a web config file. `path` names the file in messages
// ("web.yml:3:5: ...", lines and columns from 1) and its directory
// resolves relative paths. False with *error on the first problem; the
// message never quotes a password hash.
bool ParseWebConfig(std::string_view text, const std::string& path,
                    WebConfig* out, std::string* error);

std::string_view TlsVersionName(TlsVersion version);  // "TLS12"

}  // namespace sas::web
