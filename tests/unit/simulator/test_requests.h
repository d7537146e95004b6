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
  credentials::Credentials credentials{key_id, secret, "", std::nullopt};
  return ToApiRequest(aliyun::BuildSignedRequest(
      call, endpoint, credentials, version, now, nonce, "simulator-test"));
}

}  // namespace sas::simulator::testing
