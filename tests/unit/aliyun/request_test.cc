#include "aliyun/request.h"

#include <gtest/gtest.h>

#include <string>

#include "support/counting_nonce_source.h"
#include "support/fake_clock.h"
#include "util/clock.h"
#include "util/nonce.h"
#include "util/strings.h"

namespace sas::aliyun {
namespace {

using ::sas::testing::CountingNonceSource;
using ::sas::testing::FakeClock;

// Expected values below were computed independently (Python hashlib/hmac)
// from the same inputs; the procedure reproduces the official vectors.
constexpr std::string_view kUserAgent = "aliyun_sas_exporter/0.1.0";
constexpr std::string_view kDate = "2023-11-14T22:13:20Z";

struct Fixture {
  FakeClock clock;  // 1700000000 = 2023-11-14T22:13:20Z
  CountingNonceSource nonces;
  Endpoint endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443};
  aliyun::Credentials keys{"LTAI5tExampleKeyId", "ExampleSecret", "", {}};
  aliyun::Credentials sts{
      "LTAI5tExampleKeyId", "ExampleSecret", "STS.Example/Token+=", {}};

  HttpRequest Build(const RpcCall& call, const aliyun::Credentials& c,
                    SignatureVersion version) {
    return BuildSignedRequest(call, endpoint, c, version, clock.Now(),
                              nonces.Next(), kUserAgent);
  }
};

RpcCall ExportCall() {
  return {"DescribeExportInfo",
          std::string(kSasApiVersion),
          {{"ExportId", "131231"}}};
}

RpcCall ResourceDirectoryCall() {
  return {"DescribeExportInfo",
          std::string(kSasApiVersion),
          {{"ResourceDirectoryAccountId", "1667036095612345"},
           {"ExportId", "131231"}}};
}

std::string HeaderValue(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "<missing>";
}

std::vector<std::string> SignedHeaderNames(std::string_view authorization) {
  size_t begin = authorization.find("SignedHeaders=");
  size_t end = authorization.find(",Signature=");
  if (begin == std::string_view::npos || end == std::string_view::npos) {
    return {};
  }
  begin += std::string_view("SignedHeaders=").size();
  return Split(authorization.substr(begin, end - begin), ';');
}

// Verifies a V3 request the way the server does: rebuild the canonical
// request from the wire (target, headers, SignedHeaders) and recompute.
void ExpectV3Verifies(const HttpRequest& request, std::string_view secret) {
  std::string authorization = HeaderValue(request, "authorization");
  ASSERT_TRUE(StartsWith(request.target, "/?"));
  Params query;
  ASSERT_TRUE(ParseQueryString(request.target.substr(2), &query));
  std::string canonical =
      CanonicalRequestV3(request.method, "/", query, request.headers,
                         SignedHeaderNames(authorization),
                         HeaderValue(request, "x-acs-content-sha256"));
  std::string expected_signature =
      HexHmacSha256(secret, "ACS3-HMAC-SHA256\n" + HexSha256(canonical));
  EXPECT_TRUE(authorization.ends_with(",Signature=" + expected_signature))
      << authorization;
}

TEST(BuildSignedRequest, V3ExactRequest) {
  Fixture f;
  HttpRequest request = f.Build(ExportCall(), f.keys, SignatureVersion::kV3);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.endpoint, f.endpoint);
  EXPECT_EQ(request.target, "/?ExportId=131231");
  EXPECT_EQ(request.body, "");
  Headers expected = {
      {"host", "tds.cn-shanghai.aliyuncs.com"},
      {"x-acs-action", "DescribeExportInfo"},
      {"x-acs-version", "2018-12-03"},
      {"x-acs-date", std::string(kDate)},
      {"x-acs-signature-nonce", "nonce-1"},
      {"x-acs-content-sha256", std::string(kEmptyBodySha256)},
      {"accept", "application/json"},
      {"user-agent", std::string(kUserAgent)},
      {"authorization",
       "ACS3-HMAC-SHA256 Credential=LTAI5tExampleKeyId,SignedHeaders=host;"
       "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
       "x-acs-version,Signature=dcbd89e70728c8a098de92a65721e4da924eb3675084"
       "6c8f7e96b25cbe53da2a"}};
  EXPECT_EQ(request.headers, expected);
  ExpectV3Verifies(request, "ExampleSecret");
}

TEST(BuildSignedRequest, V3WithStsTokenSignsTokenAndKeyId) {
  Fixture f;
  HttpRequest request = f.Build(ExportCall(), f.sts, SignatureVersion::kV3);
  EXPECT_EQ(request.target, "/?ExportId=131231");
  Headers expected = {
      {"host", "tds.cn-shanghai.aliyuncs.com"},
      {"x-acs-action", "DescribeExportInfo"},
      {"x-acs-version", "2018-12-03"},
      {"x-acs-date", std::string(kDate)},
      {"x-acs-signature-nonce", "nonce-1"},
      {"x-acs-content-sha256", std::string(kEmptyBodySha256)},
      {"x-acs-security-token", "STS.Example/Token+="},
      {"x-acs-accesskey-id", "LTAI5tExampleKeyId"},
      {"accept", "application/json"},
      {"user-agent", std::string(kUserAgent)},
      {"authorization",
       "ACS3-HMAC-SHA256 Credential=LTAI5tExampleKeyId,SignedHeaders=host;"
       "x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;"
       "x-acs-security-token;x-acs-signature-nonce;x-acs-version,Signature="
       "846cb6c42fb172f9d2c6c4c1c0f0805b6436c325fea490bcb1b5d8aadcc5a062"}};
  EXPECT_EQ(request.headers, expected);
  ExpectV3Verifies(request, "ExampleSecret");
}

TEST(BuildSignedRequest, V3WithResourceDirectoryAccount) {
  Fixture f;
  HttpRequest plain =
      f.Build(ResourceDirectoryCall(), f.keys, SignatureVersion::kV3);
  EXPECT_EQ(plain.target,
            "/?ExportId=131231&ResourceDirectoryAccountId=1667036095612345");
  EXPECT_EQ(HeaderValue(plain, "authorization"),
            "ACS3-HMAC-SHA256 Credential=LTAI5tExampleKeyId,SignedHeaders="
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-"
            "signature-nonce;x-acs-version,Signature=3f2f9d98b586add9e2b72029"
            "02686d6bd87411729288eb6e70e240d0f24f9128");
  ExpectV3Verifies(plain, "ExampleSecret");

  Fixture fresh;
  HttpRequest sts =
      fresh.Build(ResourceDirectoryCall(), fresh.sts, SignatureVersion::kV3);
  EXPECT_EQ(HeaderValue(sts, "x-acs-signature-nonce"), "nonce-1");
  EXPECT_TRUE(HeaderValue(sts, "authorization")
                  .ends_with(",Signature=e36665800cb50baa20549778020aed0a06c6"
                             "7cd6dbfd74608b4e4bd10ca60e04"));
  ExpectV3Verifies(sts, "ExampleSecret");
}

TEST(BuildSignedRequest, V3FreshDateAndNonceChangeSignature) {
  Fixture f;
  HttpRequest first = f.Build(ExportCall(), f.keys, SignatureVersion::kV3);
  f.clock.Advance(std::chrono::seconds(1));
  HttpRequest second = f.Build(ExportCall(), f.keys, SignatureVersion::kV3);
  EXPECT_EQ(HeaderValue(second, "x-acs-date"), "2023-11-14T22:13:21Z");
  EXPECT_EQ(HeaderValue(second, "x-acs-signature-nonce"), "nonce-2");
  EXPECT_NE(HeaderValue(first, "authorization"),
            HeaderValue(second, "authorization"));
  ExpectV3Verifies(second, "ExampleSecret");
}

TEST(BuildSignedRequest, V3TamperedRequestFailsVerification) {
  Fixture f;
  HttpRequest request = f.Build(ExportCall(), f.keys, SignatureVersion::kV3);
  request.target = "/?ExportId=131232";
  Params query;
  ASSERT_TRUE(ParseQueryString(request.target.substr(2), &query));
  std::string authorization = HeaderValue(request, "authorization");
  std::string canonical =
      CanonicalRequestV3("POST", "/", query, request.headers,
                         SignedHeaderNames(authorization), kEmptyBodySha256);
  EXPECT_FALSE(authorization.ends_with(HexHmacSha256(
      "ExampleSecret", "ACS3-HMAC-SHA256\n" + HexSha256(canonical))));
}

TEST(BuildSignedRequest, V1ExactRequest) {
  Fixture f;
  HttpRequest request = f.Build(ExportCall(), f.keys, SignatureVersion::kV1);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.body, "");
  EXPECT_EQ(request.target,
            "/?AccessKeyId=LTAI5tExampleKeyId&Action=DescribeExportInfo&"
            "ExportId=131231&Format=JSON&SignatureMethod=HMAC-SHA1&"
            "SignatureNonce=nonce-1&SignatureVersion=1.0&Timestamp=2023-11-"
            "14T22%3A13%3A20Z&Version=2018-12-03&Signature=tF38QqqVHTaD%2BqZL"
            "EWUlXdvJuXw%3D");
  Headers expected = {{"host", "tds.cn-shanghai.aliyuncs.com"},
                      {"accept", "application/json"},
                      {"user-agent", std::string(kUserAgent)}};
  EXPECT_EQ(request.headers, expected);
}

TEST(BuildSignedRequest, V1WithStsToken) {
  Fixture f;
  HttpRequest request = f.Build(ExportCall(), f.sts, SignatureVersion::kV1);
  EXPECT_EQ(request.target,
            "/?AccessKeyId=LTAI5tExampleKeyId&Action=DescribeExportInfo&"
            "ExportId=131231&Format=JSON&SecurityToken=STS.Example%2FToken%2B"
            "%3D&SignatureMethod=HMAC-SHA1&SignatureNonce=nonce-1&"
            "SignatureVersion=1.0&Timestamp=2023-11-14T22%3A13%3A20Z&Version="
            "2018-12-03&Signature=vd%2FnupBQ38FwWEcmwCj7HI9DZYM%3D");
}

TEST(BuildSignedRequest, V1WithResourceDirectoryAccount) {
  Fixture f;
  HttpRequest plain =
      f.Build(ResourceDirectoryCall(), f.keys, SignatureVersion::kV1);
  EXPECT_EQ(plain.target,
            "/?AccessKeyId=LTAI5tExampleKeyId&Action=DescribeExportInfo&"
            "ExportId=131231&Format=JSON&ResourceDirectoryAccountId="
            "1667036095612345&SignatureMethod=HMAC-SHA1&SignatureNonce="
            "nonce-1&SignatureVersion=1.0&Timestamp=2023-11-14T22%3A13%3A20Z&"
            "Version=2018-12-03&Signature=7C24Zb199OgtsVjjrqzMCXqhzys%3D");
  Fixture fresh;
  HttpRequest sts =
      fresh.Build(ResourceDirectoryCall(), fresh.sts, SignatureVersion::kV1);
  EXPECT_TRUE(
      sts.target.ends_with("&Signature=H%2BHgT%2FkPpP8D2PhuQn4SFRF4"
                           "Vyk%3D"))
      << sts.target;
}

TEST(BuildSignedRequest, V1SignatureVerifiesFromTheWire) {
  Fixture f;
  HttpRequest request = f.Build(ExportCall(), f.sts, SignatureVersion::kV1);
  Params params;
  ASSERT_TRUE(ParseQueryString(request.target.substr(2), &params));
  ASSERT_FALSE(params.empty());
  EXPECT_EQ(params.back().first, "Signature");
  EXPECT_EQ(params.back().second, SignV1("POST", params, "ExampleSecret"));
}

TEST(BuildSignedRequest, NeverPutsSecretInRequest) {
  Fixture f;
  for (SignatureVersion version :
       {SignatureVersion::kV3, SignatureVersion::kV1}) {
    HttpRequest request = f.Build(ExportCall(), f.sts, version);
    EXPECT_EQ(request.target.find("ExampleSecret"), std::string::npos);
    for (const auto& [name, value] : request.headers) {
      EXPECT_EQ(value.find("ExampleSecret"), std::string::npos) << name;
    }
  }
}

TEST(BuildSignedRequest, HostHeaderCarriesNonDefaultPort) {
  Fixture f;
  f.endpoint = Endpoint{"http", "127.0.0.1", 18080};
  HttpRequest v3 = f.Build(ExportCall(), f.keys, SignatureVersion::kV3);
  EXPECT_EQ(HeaderValue(v3, "host"), "127.0.0.1:18080");
  ExpectV3Verifies(v3, "ExampleSecret");
  HttpRequest v1 = f.Build(ExportCall(), f.keys, SignatureVersion::kV1);
  EXPECT_EQ(HeaderValue(v1, "host"), "127.0.0.1:18080");
}

}  // namespace
}  // namespace sas::aliyun
