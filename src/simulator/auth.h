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
#include "util/clock.h"

namespace sas::simulator {

// One HTTP request as received.
struct ApiRequest {
  std::string method = "POST";
  // Path and raw (still percent-encoded) query: "/?ExportId=1".
  std::string target = "/";
  aliyun::Headers headers;  // any case
  std::string body;

  // The first header with this name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
};

// An error answer in the gateway's shape.
struct ApiError {
  int http_status = 400;
  std::string code;
  std::string message;
};

// What Verify() concludes about a request.
struct AuthResult {
  bool ok = false;
  ApiError error;  // when !ok
  // The AccessKeyId the request claims, when it is one of the accepted keys
  // (set even when a later check fails); empty otherwise.
  std::string access_key_id;
  std::string action;   // from x-acs-action (V3) or Action (V1)
  std::string version;  // from x-acs-version (V3) or Version (V1)
  // The API's parameters: query plus form-encoded body, without V1's common
  // parameters. Decoded, in request order.
  aliyun::Params params;
};

// Accepted AccessKeyId -> AccessKeySecret.
using KeyPairs = std::map<std::string, std::string>;

// Checks signatures, dates and nonces; see docs/simulator.md for the order
// of the checks and the error each produces. A nonce is remembered (per
// AccessKeyId, for kNonceWindow) only once the request passed every other
// check. Thread-safe.
class Authenticator {
 public:
  // Dates further than this from the clock are expired; nonces are
  // remembered this long.
  static constexpr std::chrono::minutes kNonceWindow{15};
  // At most this many nonces are remembered per AccessKeyId; beyond it the
  // oldest are forgotten early.
  static constexpr size_t kMaxNoncesPerKey = 200'000;

  // `clock` must outlive the authenticator.
  Authenticator(KeyPairs keys, const Clock& clock);

  AuthResult Verify(const ApiRequest& request);

 private:
  AuthResult VerifyV3(const ApiRequest& request, std::string_view path,
                      std::string_view query);
  AuthResult VerifyV1(const ApiRequest& request, std::string_view path,
                      std::string_view query);
  // Checks a "yyyy-MM-ddTHH:mm:ssZ" date against the clock.
  bool CheckDate(std::string_view date, ApiError* error) const;
  // Records the nonce; false if it was seen within kNonceWindow.
  bool UseNonce(const std::string& access_key_id, const std::string& nonce);

  const KeyPairs keys_;
  const Clock& clock_;

  struct NonceHistory {
    std::deque<std::pair<SteadyTime, std::string>> by_age;
    std::unordered_set<std::string> seen;
  };
  std::mutex mutex_;
  // Guarded by mutex_.
  std::unordered_map<std::string, NonceHistory> nonces_;
};

}  // namespace sas::simulator
