#pragma once

// Signature verification as the Alibaba Cloud API gateway does it, for
// Signature V3 (ACS3-HMAC-SHA256) and V1 (HMAC-SHA1). No I/O; time comes
// from the injected clock.

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "aliyun/http.h"
#include "aliyun/signing.h"
#include "simulator/api_types.h"
#include "simulator/credential_store.h"
#include "util/clock.h"

namespace sas::simulator {

// True if the Content-Type is application/x-www-form-urlencoded.
bool IsFormEncoded(const ApiRequest& request);

// The request's parameters: the query and, when the content type is
// application/x-www-form-urlencoded, the body's, decoded, in order. False on
// a malformed escape.
bool RequestParams(const ApiRequest& request, aliyun::Params* out);

// What Verify() concludes about a request.
struct AuthResult {
  bool ok = false;
  ApiError error;  // when !ok
  // The AccessKeyId the request claims, when it is one of the accepted keys
  // or issued temporary credentials (set even when a later check fails);
  // empty otherwise.
  std::string access_key_id;
  // Who signed, when ok: the long-lived AccessKeyId, or the role ARN that
  // temporary credentials were issued for.
  std::string principal;
  bool temporary = false;  // signed with issued temporary credentials
  std::string action;      // from x-acs-action (V3) or Action (V1)
  std::string version;     // from x-acs-version (V3) or Version (V1)
  // The API's parameters: query plus form-encoded body, without V1's common
  // parameters. Decoded, in request order.
  aliyun::Params params;
};

// Accepted AccessKeyId -> AccessKeySecret.
using KeyPairs = std::map<std::string, std::string>;

// Checks signatures, security tokens, dates and nonces; see
// docs/simulator.md for the order of the checks and the error each produces.
// Accepts the long-lived keys it was given and, with a CredentialStore, the
// temporary credentials issued there (which must carry their security
// token: x-acs-security-token for V3, SecurityToken for V1; a long-lived key's
// token is ignored). A nonce is remembered (per AccessKeyId, for
// kNonceWindow) only once the request passed every other check. Error
// messages never quote a security token. Thread-safe.
class Authenticator {
 public:
  // Dates further than this from the clock are expired; nonces are
  // remembered this long.
  static constexpr std::chrono::minutes kNonceWindow{15};
  // At most this many nonces are remembered per AccessKeyId; beyond it the
  // oldest are forgotten early.
  static constexpr size_t kMaxNoncesPerKey = 200'000;

  // `clock` and `issued` (nullptr: no temporary credentials) must outlive
  // the authenticator.
  Authenticator(KeyPairs keys, const Clock& clock,
                const CredentialStore* issued = nullptr);

  AuthResult Verify(const ApiRequest& request);

 private:
  AuthResult VerifyV3(const ApiRequest& request, std::string_view path,
                      std::string_view query);
  AuthResult VerifyV1(const ApiRequest& request, std::string_view path,
                      std::string_view query);
  // The key a request names, with its security token (nullptr: none).
  struct Signer {
    std::string access_key_id;
    std::string secret;
    std::string principal;
    bool temporary = false;
  };
  // Finds the key (404 InvalidAccessKeyId.NotFound if unknown) and, for
  // temporary credentials, checks the token. On failure after the key was
  // found, signer->access_key_id is still set.
  bool FindSigner(const std::string& access_key_id, const std::string* token,
                  Signer* signer, ApiError* error) const;
  // Checks a "yyyy-MM-ddTHH:mm:ssZ" date against the clock.
  bool CheckDate(std::string_view date, ApiError* error) const;
  // Records the nonce; false if it was seen within kNonceWindow.
  bool UseNonce(const std::string& access_key_id, const std::string& nonce);

  const KeyPairs keys_;
  const Clock& clock_;
  const CredentialStore* const issued_;

  struct NonceHistory {
    std::deque<std::pair<SteadyTime, std::string>> by_age;
    std::unordered_set<std::string> seen;
  };
  std::mutex mutex_;
  // Guarded by mutex_.
  std::unordered_map<std::string, NonceHistory> nonces_;
  SteadyTime last_sweep_{};  // when idle keys' histories were last dropped
};

}  // namespace sas::simulator
