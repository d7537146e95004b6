// web::ParseWebConfig (--web.config.file). Input: the YAML text.

#include "web/web_config.h"

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "fuzz_support.h"

namespace {

// The YAML text with every scalar of basic_auth_users (the password
// hashes) replaced by `canary`, written out again; nullopt when the text is
// not such a YAML document or has no hash.
std::optional<std::string> WithHashCanaries(std::string_view text,
                                            const std::string& canary) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap() || !root["basic_auth_users"].IsMap()) return std::nullopt;
    bool replaced = false;
    for (auto user : root["basic_auth_users"]) {
      if (user.second.IsScalar()) {
        user.second = canary;
        replaced = true;
      }
    }
    if (!replaced) return std::nullopt;
    YAML::Emitter out;
    out << root;
    if (!out.good()) return std::nullopt;
    return std::string(out.c_str());
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace

SAS_FUZZ_TARGET(web_config) {
  std::string_view text = sas::fuzz::AsText(data, size);
  sas::web::WebConfig config;
  std::string error;
  // The password hashes replaced by canaries, one shaped as a bcrypt hash
  // and one not: no message may quote one.
  for (const std::string& canary :
       {"$2y$10$" + std::string(sas::fuzz::kCanary) + std::string(40, 'x'),
        std::string(sas::fuzz::kCanary)}) {
    std::optional<std::string> canaried = WithHashCanaries(text, canary);
    if (!canaried) break;
    if (!sas::web::ParseWebConfig(*canaried, "/etc/web.yml", &config, &error)) {
      SAS_FUZZ_CHECK(error.find(sas::fuzz::kCanary) == std::string::npos,
                     "the message quotes a password hash");
    }
  }
  if (!sas::web::ParseWebConfig(text, "/etc/web.yml", &config, &error)) {
    SAS_FUZZ_CHECK(error.starts_with("/etc/web.yml"),
                   "an error that does not name the file");
    return;
  }
  SAS_FUZZ_CHECK(config.tls.min_version <= config.tls.max_version,
                 "min_version above max_version");
  if (config.tls_enabled) {
    SAS_FUZZ_CHECK(
        !config.tls.cert_file.empty() && !config.tls.key_file.empty(),
        "TLS without a certificate or key");
  }
  for (const auto& [user, hash] : config.users) {
    SAS_FUZZ_CHECK(hash.starts_with("$2a$") || hash.starts_with("$2b$") ||
                       hash.starts_with("$2y$"),
                   "a password hash that is not bcrypt");
  }
  for (const auto& [name, value] : config.headers) {
    SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(name) &&
                       sas::fuzz::HasNoControlCharacters(value),
                   "a header with control characters");
  }
}
