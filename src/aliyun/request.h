#pragma once

#include <string>
#include <string_view>

#include "aliyun/credentials.h"
#include "aliyun/http.h"
#include "aliyun/signing.h"
#include "util/clock.h"

namespace sas::aliyun {

enum class SignatureVersion { kV3, kV1 };

// One RPC-style call: POST / with the parameters in the query, empty body.
struct RpcCall {
  std::string action;   // "DescribeExportInfo"
  std::string version;  // "2018-12-03"
  Params params;        // the API's own parameters, unencoded
};

inline constexpr std::string_view kSasApiVersion = "2018-12-03";

// Builds the request the official SDKs send, signed with the given time and
// nonce.
// V3: query = CanonicalQueryString(params); headers host, x-acs-action,
//   x-acs-version, x-acs-date, x-acs-signature-nonce, x-acs-content-sha256,
//   (x-acs-security-token and x-acs-accesskey-id with an STS token),
//   accept: application/json, user-agent, authorization. The target is
//   "/?" + that query ("/" with no params).
// V1: the common parameters (Action, Version, Format=JSON, AccessKeyId,
//   SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, SignatureNonce,
//   Timestamp, SecurityToken with an STS token) join the params in the
//   query, followed by Signature; headers host, accept, user-agent.
// Method POST, empty body. user-agent is omitted when user_agent is empty.
HttpRequest BuildSignedRequest(const RpcCall& call, const Endpoint& endpoint,
                               const Credentials& credentials,
                               SignatureVersion version, WallTime now,
                               std::string_view nonce,
                               std::string_view user_agent);

}  // namespace sas::aliyun
