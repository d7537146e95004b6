#pragma once

#include <optional>
#include <string>

#include "util/clock.h"

namespace sas::aliyun {

// One set of credentials to sign with. Never log or expose any field but
// access_key_id.
struct Credentials {
  std::string access_key_id;
  std::string access_key_secret;
  // The STS token of temporary credentials; empty for long-lived keys.
  std::string security_token;
  // When temporary credentials stop working; nullopt for long-lived keys.
  std::optional<WallTime> expiration;
  bool operator==(const Credentials&) const = default;
};

// What a provider answers: credentials, or why there are none.
struct CredentialsResult {
  std::optional<Credentials> credentials;
  // Machine-readable reason on failure, e.g. "EnvironmentVariableUnset".
  std::string error_code;
  // Human-readable reason on failure; never contains a secret.
  std::string error_message;
};

// Where credentials come from. Thread-safe: Get() is called from the poll
// workers concurrently and must not block on the network for long; providers
// of temporary credentials refresh in the background.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual CredentialsResult Get() = 0;
  // The credential type, for the `provider` label: "access_key", ...
  virtual std::string Type() const = 0;
  // Fetches fresh credentials now, blocking (the API said the token
  // expired). Providers of long-lived keys just answer Get().
  virtual CredentialsResult Refresh() { return Get(); }
};

}  // namespace sas::aliyun
