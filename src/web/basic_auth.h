#pragma once

// HTTP basic authentication against bcrypt hashes (basic_auth_users), as
// prometheus/exporter-toolkit web/handler.go does it: an unknown user costs
// one bcrypt like a wrong password, and recent successful checks are
// cached so a scrape every few seconds does not pay bcrypt each time.

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "web/http_request.h"

namespace sas::web {

// bcrypt through libxcrypt's crypt_r. True when `password` hashes to
// `hash` ($2a$, $2b$ or $2y$); the results are compared in constant time.
// A password containing NUL never matches (crypt(3) would cut it there).
bool BcryptMatches(std::string_view password, const std::string& hash);
// A new $2b$ hash of `password` at `cost` (4-31) with a random salt; "" on
// failure.
std::string BcryptHash(std::string_view password, int cost);
// The cost of a well-formed bcrypt hash ("$2y$10$..." -> 10).
int BcryptCost(std::string_view hash);

struct BasicCredentials {
  std::string user;
  std::string password;
};
// The credentials of an Authorization field "Basic base64(user:password)"
// (scheme case-insensitive); nullopt when it is not one.
std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view field);

// Checks requests against a fixed set of users. Thread-safe.
class BasicAuthenticator {
 public:
  // `users`: user name -> bcrypt hash. Makes the unknown-user hash (one
  // bcrypt at the users' highest cost), so construction takes as long as
  // one check.
  explicit BasicAuthenticator(std::map<std::string, std::string> users);

  // False when there are no users: every request is allowed.
  bool required() const { return !users_.empty(); }
  // True when Allowed(request) answers without running bcrypt: no users,
  // no usable credentials, or credentials that passed recently. Callers
  // use it to keep bcrypt off an event loop.
  bool IsCheap(const HttpRequest& request) const;
  // Whether the request carries the right password of a configured user.
  bool Allowed(const HttpRequest& request) const;

 private:
  // SHA-256 of user, hash and password: the cache never holds a password.
  static std::string CacheKey(const std::string& user, const std::string& hash,
                              const std::string& password);

  const std::map<std::string, std::string> users_;
  std::string unknown_user_hash_;

  mutable std::mutex mutex_;
  // Guarded by mutex_: keys of recent successes, oldest first.
  mutable std::deque<std::string> recent_;
  mutable std::set<std::string> recent_set_;
};

}  // namespace sas::web
