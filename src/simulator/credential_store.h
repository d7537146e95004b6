#pragma once

// Temporary credentials issued by the simulator (STS and the instance
// metadata service), remembered so that the API can accept them.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "simulator/api_types.h"
#include "simulator/random.h"
#include "util/clock.h"

namespace sas::simulator {

// One set of issued credentials. The secret and the token are secrets: never
// log them or put them in an error message.
struct IssuedCredentials {
  std::string access_key_id;  // "STS." + 24 alphanumerics
  std::string access_key_secret;
  std::string security_token;  // "CAIS" + base64, several hundred chars
  WallTime issued;             // whole seconds
  WallTime expiration;         // issued + lifetime, whole seconds
  // The role the credentials were issued for: their principal.
  std::string role_arn;
};

// Issues and remembers temporary credentials. Credentials are forgotten once
// they expired more than kRetention ago (their AccessKeyId is then unknown),
// and the earliest-expiring are forgotten first when more than `capacity`
// (default kCapacity) are held. Thread-safe.
class CredentialStore {
 public:
  static constexpr std::chrono::hours kRetention{1};
  static constexpr size_t kCapacity = 100'000;

  // `clock` and `random` must outlive the store; `capacity` >= 1.
  CredentialStore(const Clock& clock, RandomSource& random,
                  size_t capacity = kCapacity);

  // New credentials for `role_arn`, valid from now (truncated to the second)
  // for `lifetime` (whole seconds, > 0).
  IssuedCredentials Issue(const std::string& role_arn,
                          std::chrono::seconds lifetime);

  // The credentials with this AccessKeyId, or nullopt if never issued or
  // forgotten.
  std::optional<IssuedCredentials> Find(const std::string& access_key_id) const;

  // Checks the security token a request signed with `credentials` carries
  // (nullptr: none), at the clock's current time. On failure sets *error:
  // 400 MissingSecurityToken (none), InvalidSecurityToken.Malformed (not a
  // token this store issued), InvalidSecurityToken.MismatchWithAccessKey
  // (issued with another key), InvalidSecurityToken.Expired (at or past the
  // expiration), in that order. Messages never quote the token.
  bool CheckToken(const IssuedCredentials& credentials,
                  const std::string* token, ApiError* error) const;

  // How many credentials are remembered.
  size_t size() const;

 private:
  // Drops what expired more than kRetention ago, then the earliest-expiring
  // beyond capacity_ - 1.
  void PruneLocked(WallTime now);

  const Clock& clock_;
  RandomSource& random_;
  const size_t capacity_;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::unordered_map<std::string, IssuedCredentials> by_key_;
  std::unordered_map<std::string, std::string> key_by_token_;
  std::multimap<WallTime, std::string> keys_by_expiration_;
};

}  // namespace sas::simulator
