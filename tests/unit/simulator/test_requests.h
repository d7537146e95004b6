#pragma once

// Helpers shared by the simulator tests: requests signed the way the
// exporter signs them.

#include <string>

#include "aliyun/request.h"
#include "simulator/auth.h"
#include "util/clock.h"

namespace sas::simulator::testing {

inline constexpr char kKeyId[] = "LTAIsimulatortest";
inline constexpr char kKeySecret[] = "simulator-test-secret";

inline ApiRequest ToApiRequest(const aliyun::HttpRequest& request) {
  return {request.method, request.target, request.headers, request.body};
}

// DescribeExportInfo for `export_id` (and the RD account when not empty),
// signed at `now` with `nonce`.
inline ApiRequest DescribeExportInfo(
    const std::string& export_id, WallTime now, const std::string& nonce,
    aliyun::SignatureVersion version = aliyun::SignatureVersion::kV3,
    const std::string& rd_account = "", const std::string& key_id = kKeyId,
    const std::string& secret = kKeySecret) {
  aliyun::RpcCall call{
      "DescribeExportInfo", "2018-12-03", {{"ExportId", export_id}}};
  if (!rd_account.empty()) {
    call.params.emplace_back("ResourceDirectoryAccountId", rd_account);
  }
  aliyun::Endpoint endpoint{"http", "127.0.0.1", 8080};
  aliyun::Credentials credentials{key_id, secret, "", std::nullopt};
  return ToApiRequest(aliyun::BuildSignedRequest(
      call, endpoint, credentials, version, now, nonce, "simulator-test"));
}

// `call` signed with `credentials` (their security_token, when set, travels
// as x-acs-security-token / SecurityToken) at `now` with `nonce`.
inline ApiRequest Signed(
    const aliyun::RpcCall& call, const aliyun::Credentials& credentials,
    WallTime now, const std::string& nonce,
    aliyun::SignatureVersion version = aliyun::SignatureVersion::kV1) {
  aliyun::Endpoint endpoint{"http", "127.0.0.1", 8080};
  return ToApiRequest(aliyun::BuildSignedRequest(
      call, endpoint, credentials, version, now, nonce, "simulator-test"));
}

// The long-lived test key.
inline aliyun::Credentials LongLivedKey() {
  return {kKeyId, kKeySecret, "", std::nullopt};
}

// STS AssumeRole of `role_arn` with the session name "sim-session" plus
// `extra` parameters, signed (V1 by default) with `caller`.
inline ApiRequest AssumeRole(
    const std::string& role_arn, const aliyun::Credentials& caller,
    WallTime now, const std::string& nonce, aliyun::Params extra = {},
    aliyun::SignatureVersion version = aliyun::SignatureVersion::kV1) {
  aliyun::RpcCall call{"AssumeRole", "2015-04-01", {}};
  if (!role_arn.empty()) call.params.emplace_back("RoleArn", role_arn);
  bool has_session = false;
  for (const auto& [name, value] : extra) {
    if (name == "RoleSessionName") has_session = true;
  }
  if (!has_session) call.params.emplace_back("RoleSessionName", "sim-session");
  for (auto& param : extra) call.params.push_back(std::move(param));
  return Signed(call, caller, now, nonce, version);
}

// An unsigned STS request with `params` (Action and Version included by the
// caller) in the query, or in a form-encoded body when `form`.
inline ApiRequest UnsignedSts(const aliyun::Params& params, bool form = false) {
  ApiRequest request;
  request.method = "POST";
  request.headers = {{"host", "127.0.0.1:8080"}};
  std::string encoded = aliyun::CanonicalQueryString(params);
  if (form) {
    request.target = "/";
    request.headers.emplace_back("content-type",
                                 "application/x-www-form-urlencoded");
    request.body = encoded;
  } else {
    request.target = "/?" + encoded;
  }
  return request;
}

}  // namespace sas::simulator::testing
