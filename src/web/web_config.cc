#include "web/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "util/file_system.h"
#include "util/strings.h"

namespace sas::web {
namespace {

// The fields http_server_config.headers may set, and the values allowed
// where the toolkit restricts them (prometheus/exporter-toolkit
// web/handler.go, extraHTTPHeaders). Names are case-sensitive there too.
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;  // empty: any value
};
const std::array<AllowedHeader, 5>& AllowedHeaders() {
  static const std::array<AllowedHeader, 5> kAllowed = {{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  }};
  return kAllowed;
}

// The cipher suites Go's tls.CipherSuites() lists (the names the toolkit
// accepts), with OpenSSL's name for each. TLS 1.3 suites are spelt the same
// in both.
struct CipherName {
  std::string_view go;
  std::string_view openssl;
  bool tls13;
};
constexpr std::array<CipherName, 17> kCiphers = {{
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", false},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", false},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", false},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", false},
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", true},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", true},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
     false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
     false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
     false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
     false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     "ECDHE-ECDSA-CHACHA20-POLY1305", false},
}};

// curve_preferences: the toolkit's names and OpenSSL's group names.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kCurves =
    {{{"CurveP256", "P-256"},
      {"CurveP384", "P-384"},
      {"CurveP521", "P-521"},
      {"X25519", "X25519"}}};

constexpr std::array<std::pair<std::string_view, TlsVersion>, 4> kVersions = {
    {{"TLS10", TlsVersion::kTls10},
     {"TLS11", TlsVersion::kTls11},
     {"TLS12", TlsVersion::kTls12},
     {"TLS13", TlsVersion::kTls13}}};

constexpr std::array<std::pair<std::string_view, ClientAuth>, 6> kClientAuths =
    {{
        {"NoClientCert", ClientAuth::kNoClientCert},
        {"RequestClientCert", ClientAuth::kRequestClientCert},
        {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
        // The toolkit's older spelling, still accepted there.
        {"RequireClientCert", ClientAuth::kRequireAnyClientCert},
        {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
        {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
    }};

// Thrown inside the parser with a message that already names the place.
struct ConfigError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path) {}

  [[noreturn]] void Fail(const YAML::Node& node,
                         const std::string& message) const {
    throw ConfigError{At(node) + message};
  }

  std::string At(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return path_ + ": ";
    return path_ + ":" + std::to_string(mark.line + 1) + ":" +
           std::to_string(mark.column + 1) + ": ";
  }

  // Calls visit(key, value) for each entry of a mapping; `where` names it.
  // A null node is an empty mapping. Keys outside `known` and repeated keys
  // are errors, as in yaml.v2's UnmarshalStrict.
  template <typename Visit>
  void Fields(const YAML::Node& node, std::string_view where,
              const std::vector<std::string_view>& known, Visit visit) const {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      Fail(node, std::string(where) + " must be a mapping of fields");
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      std::string key = ScalarKey(entry.first, where);
      if (!seen.insert(key).second) {
        Fail(entry.first,
             std::string(where) + ": field \"" + key + "\" is given twice");
      }
      if (!known.empty() &&
          std::find(known.begin(), known.end(), key) == known.end()) {
        std::string message =
            std::string(where) + ": unknown field \"" + key + "\"";
        std::string near = NearestWord(key, known);
        if (!near.empty()) message += " (did you mean \"" + near + "\"?)";
        message += "; known fields: " + Join(known);
        Fail(entry.first, message);
      }
      visit(key, entry.first, entry.second);
    }
  }

  std::string ScalarKey(const YAML::Node& key, std::string_view where) const {
    if (!key.IsScalar()) {
      Fail(key, std::string(where) + ": keys must be plain strings");
    }
    return key.Scalar();
  }

  // A string field: any scalar; null is "".
  std::string String(const YAML::Node& node, std::string_view field) const {
    if (node.IsNull()) return "";
    if (!node.IsScalar()) {
      Fail(node, std::string(field) + " must be a string");
    }
    return node.Scalar();
  }

  bool Bool(const YAML::Node& node, std::string_view field) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      Fail(node, std::string(field) + " must be true or false");
    }
    return value;
  }

  // A list of strings; null is empty.
  std::vector<std::pair<std::string, YAML::Node>> List(
      const YAML::Node& node, std::string_view field) const {
    std::vector<std::pair<std::string, YAML::Node>> items;
    if (node.IsNull()) return items;
    if (!node.IsSequence()) {
      Fail(node, std::string(field) + " must be a list");
    }
    for (const auto& item : node) {
      items.emplace_back(String(item, field), item);
    }
    return items;
  }

  std::string Path(const std::string& value) const {
    if (value.empty() || value.front() == '/') return value;
    return DirectoryOf(path_) + "/" + value;
  }

  static std::string Join(const std::vector<std::string_view>& words) {
    std::string out;
    for (std::string_view word : words) {
      if (!out.empty()) out += ", ";
      out += word;
    }
    return out;
  }

 private:
  const std::string& path_;
};

template <typename Table>
std::vector<std::string_view> NamesOf(const Table& table) {
  std::vector<std::string_view> names;
  for (const auto& entry : table) names.push_back(entry.first);
  return names;
}

// Looks `name` up in a table of (name, value) pairs; fails naming the
// choices.
template <typename Table>
auto Choose(const Parser& parser, const YAML::Node& node,
            std::string_view field, const Table& table) {
  std::string name = parser.String(node, field);
  for (const auto& [known, value] : table) {
    if (known == name) return value;
  }
  parser.Fail(node, std::string(field) + ": unknown value \"" + name +
                        "\"; one of " + Parser::Join(NamesOf(table)));
}

// Whether `hash` is a bcrypt hash crypt(3) can check: "$2a$", "$2b$" or
// "$2y$", a two-digit cost from 04 to 31, "$", then 53 characters of
// bcrypt's base64. Empty when it is; otherwise what is wrong.
std::string BcryptFormatProblem(std::string_view hash) {
  constexpr std::string_view kAlphabet =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (hash.size() < 7 || hash.substr(0, 2) != "$2" ||
      std::string_view("aby").find(hash[2]) == std::string_view::npos ||
      hash[3] != '$') {
    return "is not a bcrypt hash: it must start with $2a$, $2b$ or $2y$ "
           "(htpasswd -B makes $2y$)";
  }
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' ||
      hash[6] != '$') {
    return "is not a bcrypt hash: the cost after the prefix must be two "
           "digits";
  }
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) {
    return "has bcrypt cost " + std::to_string(cost) +
           ", outside the allowed 4 to 31";
  }
  if (hash.size() != 60) {
    return "is not a bcrypt hash: it has " + std::to_string(hash.size()) +
           " characters where bcrypt makes 60";
  }
  if (hash.substr(7).find_first_not_of(kAlphabet) != std::string_view::npos) {
    return "is not a bcrypt hash: a character after the cost is outside "
           "bcrypt's base64 alphabet";
  }
  return "";
}

void ParseTls(const Parser& parser, const YAML::Node& node, WebConfig* out) {
  TlsServerConfig& tls = out->tls;
  bool auth_given = false;
  std::optional<YAML::Node> ca_node;
  std::vector<std::pair<std::string, YAML::Node>> ciphers;
  parser.Fields(
      node, "tls_server_config",
      {"cert_file", "key_file", "client_auth_type", "client_ca_file",
       "cipher_suites", "curve_preferences", "min_version", "max_version",
       "prefer_server_cipher_suites"},
      [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
        std::string field = "tls_server_config." + key;
        if (key == "cert_file") {
          tls.cert_file = parser.Path(parser.String(value, field));
        } else if (key == "key_file") {
          tls.key_file = parser.Path(parser.String(value, field));
        } else if (key == "client_ca_file") {
          tls.client_ca_file = parser.Path(parser.String(value, field));
          ca_node.emplace(value);
        } else if (key == "client_auth_type") {
          auth_given = !parser.String(value, field).empty();
          if (auth_given) {
            tls.client_auth = Choose(parser, value, field, kClientAuths);
          }
        } else if (key == "min_version") {
          tls.min_version = Choose(parser, value, field, kVersions);
        } else if (key == "max_version") {
          tls.max_version = Choose(parser, value, field, kVersions);
        } else if (key == "prefer_server_cipher_suites") {
          tls.prefer_server_cipher_suites = parser.Bool(value, field);
        } else if (key == "curve_preferences") {
          for (const auto& [name, item] : parser.List(value, field)) {
            tls.curves.emplace_back(Choose(parser, item, field, kCurves));
          }
        } else if (key == "cipher_suites") {
          ciphers = parser.List(value, field);
        }
      });
  for (const auto& [listed, item] : ciphers) {
    const std::string& name = listed;  // lambdas cannot capture a binding
    auto found =
        std::find_if(kCiphers.begin(), kCiphers.end(),
                     [&](const CipherName& c) { return c.go == name; });
    if (found == kCiphers.end()) {
      std::vector<std::string_view> names;
      for (const CipherName& c : kCiphers) names.push_back(c.go);
      std::string message =
          "tls_server_config.cipher_suites: unknown cipher "
          "suite \"" +
          name + "\"";
      std::string near = NearestWord(name, names);
      if (!near.empty()) message += " (did you mean \"" + near + "\"?)";
      parser.Fail(item,
                  message + "; Go's names, one of " + Parser::Join(names));
    }
    (found->tls13 ? tls.tls13_ciphers : tls.tls12_ciphers)
        .emplace_back(found->openssl);
  }
  tls.tls12_disabled = !ciphers.empty() && tls.tls12_ciphers.empty();

  out->tls_enabled = !tls.cert_file.empty() || !tls.key_file.empty() ||
                     auth_given || !tls.client_ca_file.empty();
  if (!out->tls_enabled) return;
  // The toolkit's checks, in its order (ConfigToTLSConfig).
  if (tls.cert_file.empty()) {
    parser.Fail(node, "tls_server_config: missing cert_file");
  }
  if (tls.key_file.empty()) {
    parser.Fail(node, "tls_server_config: missing key_file");
  }
  if (!tls.client_ca_file.empty() &&
      tls.client_auth == ClientAuth::kNoClientCert) {
    parser.Fail(*ca_node,
                "tls_server_config: client_ca_file is set without a "
                "client_auth_type that asks for client certificates "
                "(e.g. RequireAndVerifyClientCert)");
  }
  // Stricter than the toolkit, which accepts it and then fails every
  // handshake.
  if (tls.min_version > tls.max_version) {
    parser.Fail(node, "tls_server_config: min_version " +
                          std::string(TlsVersionName(tls.min_version)) +
                          " is above max_version " +
                          std::string(TlsVersionName(tls.max_version)));
  }
}

void ParseHttp(const Parser& parser, const YAML::Node& node, WebConfig* out) {
  parser.Fields(
      node, "http_server_config", {"http2", "headers"},
      [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
        if (key == "http2") {
          // HTTP/2 is not served; the field is accepted for compatibility.
          parser.Bool(value, "http_server_config.http2");
          return;
        }
        parser.Fields(
            value, "http_server_config.headers", {},
            [&](const std::string& name, const YAML::Node& name_node,
                const YAML::Node& header_value) {
              std::string text = parser.String(
                  header_value, "http_server_config.headers." + name);
              const auto& allowed = AllowedHeaders();
              auto found = std::find_if(
                  allowed.begin(), allowed.end(),
                  [&](const AllowedHeader& h) { return h.name == name; });
              if (found == allowed.end()) {
                std::vector<std::string_view> names;
                for (const AllowedHeader& h : allowed) names.push_back(h.name);
                parser.Fail(name_node,
                            "http_server_config.headers: the field \"" + name +
                                "\" cannot be configured; only " +
                                Parser::Join(names) +
                                " (spelt exactly so) can");
              }
              if (!found->values.empty() &&
                  std::find(found->values.begin(), found->values.end(), text) ==
                      found->values.end()) {
                parser.Fail(header_value, "http_server_config.headers." + name +
                                              ": invalid value \"" + text +
                                              "\"; one of " +
                                              Parser::Join(found->values));
              }
              if (text.find_first_of("\r\n") != std::string::npos ||
                  !UnprintableTextProblem(text).empty()) {
                parser.Fail(header_value,
                            "http_server_config.headers." + name +
                                ": the value must be printable text on one "
                                "line");
              }
              out->headers.emplace_back(name, std::move(text));
            });
      });
}

void ParseUsers(const Parser& parser, const YAML::Node& node, WebConfig* out) {
  parser.Fields(
      node, "basic_auth_users", {},
      [&](const std::string& user, const YAML::Node& user_node,
          const YAML::Node& value) {
        if (user.find(':') != std::string::npos) {
          // Basic authentication splits "user:password" at the first ':'.
          parser.Fail(user_node, "basic_auth_users: user name \"" + user +
                                     "\" contains ':', which basic "
                                     "authentication cannot carry");
        }
        if (!value.IsNull() && !value.IsScalar()) {
          parser.Fail(value,
                      "basic_auth_users." + user + " must be a bcrypt hash");
        }
        std::string hash = value.IsNull() ? "" : value.Scalar();
        if (std::string problem = BcryptFormatProblem(hash); !problem.empty()) {
          parser.Fail(value, "basic_auth_users: the password hash of user \"" +
                                 user + "\" " + problem);
        }
        out->users[user] = std::move(hash);
      });
}

}  // namespace

std::string_view TlsVersionName(TlsVersion version) {
  for (const auto& [name, value] : kVersions) {
    if (value == version) return name;
  }
  return "unknown";
}

bool ParseWebConfig(std::string_view text, const std::string& path,
                    WebConfig* out, std::string* error) {
  *out = WebConfig();
  Parser parser(path);
  try {
    // Like yaml.v2's Unmarshal, only the first document counts.
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsNull() && !root.IsMap()) {
      parser.Fail(root,
                  "the web config must be a mapping with tls_server_config, "
                  "http_server_config and basic_auth_users");
    }
    parser.Fields(
        root, "the web config",
        {"tls_server_config", "http_server_config", "basic_auth_users"},
        [&](const std::string& key, const YAML::Node&,
            const YAML::Node& value) {
          if (key == "tls_server_config") {
            ParseTls(parser, value, out);
          } else if (key == "http_server_config") {
            ParseHttp(parser, value, out);
          } else {
            ParseUsers(parser, value, out);
          }
        });
  } catch (const ConfigError& e) {
    *error = e.message;
    return false;
  } catch (const YAML::Exception& e) {
    *error = path + ":" + std::to_string(e.mark.line + 1) + ":" +
             std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg;
    return false;
  }
  return true;
}

}  // namespace sas::web
