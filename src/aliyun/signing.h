#pragma once

// Alibaba Cloud request signatures as pure functions: no clock, no nonce, no
// I/O. The algorithms are those of Alibaba Cloud's "Request syntax and
// signature method V3" and "V1" API documentation pages, checked against
// their published examples (see the tests).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aliyun/http.h"

namespace sas::aliyun {

// Unencoded name/value pairs, in any order.
using Params = std::vector<std::pair<std::string, std::string>>;

// The value of the first parameter named `name`, or nullptr.
const std::string* FindParam(const Params& params, std::string_view name);

// RFC 3986 encoding: A-Z a-z 0-9 - _ . ~ kept, every other byte %XY with
// uppercase hex (space is %20, '*' is %2A, '~' is kept).
std::string PercentEncode(std::string_view text);

// Parameters sorted by name (byte order; equal names keep value order),
// each "Encode(name)=Encode(value)", joined by '&'. Empty value gives "name=".
std::string CanonicalQueryString(const Params& params);

std::string HexSha256(std::string_view data);
std::string HexHmacSha256(std::string_view key, std::string_view data);
std::string Base64HmacSha1(std::string_view key, std::string_view data);

inline constexpr std::string_view kEmptyBodySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---- Signature V3: ACS3-HMAC-SHA256 ----

struct V3Input {
  std::string method;          // "POST"
  std::string canonical_uri;   // "/" (an empty path is signed as "/")
  Params query;                // unencoded
  Headers headers;             // any case; repeated names allowed
  std::string hashed_payload;  // hex SHA-256 of the body
};

struct V3Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-acs-action;..."
  std::string signature;       // lowercase hex
  std::string authorization;   // the whole Authorization header value
};

// Signs host, content-type (if present) and every x-acs-* header: names
// lowercased, values trimmed, repeated names merged "v1,v2" in order.
V3Signature SignV3(const V3Input& input, std::string_view access_key_id,
                   std::string_view access_key_secret);

// The canonical request of a request whose signed header names are given
// (as the server reconstructs it from the Authorization header). Headers not
// named in signed_headers are ignored.
std::string CanonicalRequestV3(std::string_view method,
                               std::string_view canonical_uri,
                               const Params& query, const Headers& headers,
                               const std::vector<std::string>& signed_headers,
                               std::string_view hashed_payload);

// ---- Signature V1: HMAC-SHA1, SignatureVersion=1.0 ----

// METHOD & Encode("/") & Encode(CanonicalQueryString(params without
// "Signature")).
std::string StringToSignV1(std::string_view method, const Params& params);
// Base64(HMAC-SHA1(secret + "&", StringToSignV1)).
std::string SignV1(std::string_view method, const Params& params,
                   std::string_view access_key_secret);

// Splits "a=1&b=%20x" into decoded pairs, in order. Returns false on a
// malformed escape. '+' is taken literally (Alibaba Cloud never uses it
// for space).
bool ParseQueryString(std::string_view query, Params* out);

}  // namespace sas::aliyun
