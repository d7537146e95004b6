#include "aliyun/request.h"

namespace sas::aliyun {
namespace {

HttpRequest BuildV3(const RpcCall& call, const Endpoint& endpoint,
                    const Credentials& credentials, WallTime now,
                    std::string_view nonce, std::string_view user_agent) {
  HttpRequest request;
  request.method = "POST";
  request.endpoint = endpoint;
  std::string query = CanonicalQueryString(call.params);
  request.target = query.empty() ? "/" : "/?" + query;

  Headers& headers = request.headers;
  headers.emplace_back("host", endpoint.HostHeader());
  headers.emplace_back("x-acs-action", call.action);
  headers.emplace_back("x-acs-version", call.version);
  headers.emplace_back("x-acs-date", FormatIso8601(now));
  headers.emplace_back("x-acs-signature-nonce", std::string(nonce));
  std::string hashed_payload = request.body.empty()
                                   ? std::string(kEmptyBodySha256)
                                   : HexSha256(request.body);
  headers.emplace_back("x-acs-content-sha256", hashed_payload);
  if (!credentials.security_token.empty()) {
    headers.emplace_back("x-acs-security-token", credentials.security_token);
    headers.emplace_back("x-acs-accesskey-id", credentials.access_key_id);
  }
  headers.emplace_back("accept", "application/json");
  if (!user_agent.empty()) {
    headers.emplace_back("user-agent", std::string(user_agent));
  }

  V3Input input;
  input.method = request.method;
  input.canonical_uri = "/";
  input.query = call.params;
  input.headers = headers;
  input.hashed_payload = std::move(hashed_payload);
  V3Signature signature =
      SignV3(input, credentials.access_key_id, credentials.access_key_secret);
  headers.emplace_back("authorization", std::move(signature.authorization));
  return request;
}

HttpRequest BuildV1(const RpcCall& call, const Endpoint& endpoint,
                    const Credentials& credentials, WallTime now,
                    std::string_view nonce, std::string_view user_agent) {
  HttpRequest request;
  request.method = "POST";
  request.endpoint = endpoint;

  Params params = call.params;
  params.emplace_back("Action", call.action);
  params.emplace_back("Version", call.version);
  params.emplace_back("Format", "JSON");
  params.emplace_back("AccessKeyId", credentials.access_key_id);
  params.emplace_back("SignatureMethod", "HMAC-SHA1");
  params.emplace_back("SignatureVersion", "1.0");
  params.emplace_back("SignatureNonce", std::string(nonce));
  params.emplace_back("Timestamp", FormatIso8601(now));
  if (!credentials.security_token.empty()) {
    params.emplace_back("SecurityToken", credentials.security_token);
  }
  std::string signature =
      SignV1(request.method, params, credentials.access_key_secret);
  request.target = "/?" + CanonicalQueryString(params) +
                   "&Signature=" + PercentEncode(signature);

  request.headers.emplace_back("host", endpoint.HostHeader());
  request.headers.emplace_back("accept", "application/json");
  if (!user_agent.empty()) {
    request.headers.emplace_back("user-agent", std::string(user_agent));
  }
  return request;
}

}  // namespace

HttpRequest BuildSignedRequest(const RpcCall& call, const Endpoint& endpoint,
                               const Credentials& credentials,
                               SignatureVersion version, WallTime now,
                               std::string_view nonce,
                               std::string_view user_agent) {
  return version == SignatureVersion::kV3
             ? BuildV3(call, endpoint, credentials, now, nonce, user_agent)
             : BuildV1(call, endpoint, credentials, now, nonce, user_agent);
}

}  // namespace sas::aliyun
