#include "simulator/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "test_requests.h"
#include "util/strings.h"

namespace sas::simulator {
namespace {

using ::sas::testing::FakeClock;

using testing::DescribeExportInfo;
using ::testing::HasSubstr;
using testing::kKeyId;
using testing::kKeySecret;
using ::testing::StartsWith;

WallTime At(const char* iso8601) {
  WallTime t;
  EXPECT_TRUE(ParseIso8601(iso8601, &t)) << iso8601;
  return t;
}

// The official V3 example (alibaba-cloud-api.md section 3).
ApiRequest OfficialV3Request() {
  ApiRequest request;
  request.method = "POST";
  request.target =
      "/?ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&"
      "RegionId=cn-shanghai";
  request.headers = {
      {"Host", "ecs.cn-shanghai.aliyuncs.com"},
      {"x-acs-action", "RunInstances"},
      {"x-acs-version", "2014-05-26"},
      {"x-acs-date", "2023-10-26T10:22:32Z"},
      {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
      {"x-acs-content-sha256", std::string(aliyun::kEmptyBodySha256)},
      {"Authorization",
       "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;"
       "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
       "x-acs-version,Signature="
       "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"}};
  return request;
}

// The official V1 example, as a GET with the parameters in the query.
ApiRequest OfficialV1Request() {
  ApiRequest request;
  request.method = "GET";
  request.target =
      "/?AccessKeyId=testid&Action=DescribeRegions&Format=XML&"
      "SignatureMethod=HMAC-SHA1&"
      "SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&"
      "SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&"
      "Version=2014-05-26&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D";
  request.headers = {{"Host", "ecs.aliyuncs.com"}};
  return request;
}

void SetHeader(ApiRequest& request, std::string_view name,
               const std::string& value) {
  for (auto& [key, old] : request.headers) {
    if (ToLower(key) == name) old = value;
  }
}

void RemoveHeader(ApiRequest& request, std::string_view name) {
  std::erase_if(request.headers, [&](const auto& header) {
    return ToLower(header.first) == name;
  });
}

class OfficialV3Test : public ::testing::Test {
 protected:
  FakeClock clock_{At("2023-10-26T10:22:32Z")};
  Authenticator auth_{{{"YourAccessKeyId", "YourAccessKeySecret"}}, clock_};
};

TEST_F(OfficialV3Test, Verifies) {
  AuthResult result = auth_.Verify(OfficialV3Request());
  ASSERT_TRUE(result.ok) << result.error.code << ": " << result.error.message;
  EXPECT_EQ(result.access_key_id, "YourAccessKeyId");
  EXPECT_EQ(result.action, "RunInstances");
  EXPECT_EQ(result.version, "2014-05-26");
  EXPECT_THAT(
      result.params,
      ::testing::ElementsAre(
          std::pair<std::string, std::string>(
              "ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
          std::pair<std::string, std::string>("RegionId", "cn-shanghai")));
}

TEST_F(OfficialV3Test, TamperedQueryEchoesServerStringToSign) {
  ApiRequest request = OfficialV3Request();
  request.target += "x";
  AuthResult result = auth_.Verify(request);
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.error.http_status, 400);
  EXPECT_EQ(result.error.code, "SignatureDoesNotMatch");
  EXPECT_THAT(result.error.message,
              StartsWith("Specified signature is not matched with our "
                         "calculation. server string to sign "
                         "is:ACS3-HMAC-SHA256\n"));
  // The key was recognised even though the signature failed.
  EXPECT_EQ(result.access_key_id, "YourAccessKeyId");
}

TEST_F(OfficialV3Test, UntamperedStringToSignMatchesOfficialHash) {
  // A wrong signature makes the server echo its string to sign, whose
  // second line is the official HexSHA256(CanonicalRequest).
  ApiRequest request = OfficialV3Request();
  std::string authorization = *request.Header("authorization");
  authorization.back() = authorization.back() == '0' ? '1' : '0';
  SetHeader(request, "authorization", authorization);
  AuthResult result = auth_.Verify(request);
  EXPECT_EQ(result.error.code, "SignatureDoesNotMatch");
  EXPECT_THAT(result.error.message,
              HasSubstr("ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f9"
                        "64061054b7695beedaac1145b1e259"));
}

TEST_F(OfficialV3Test, TamperedSignedHeaderIsRejected) {
  ApiRequest request = OfficialV3Request();
  SetHeader(request, "x-acs-action", "DescribeInstances");
  EXPECT_EQ(auth_.Verify(request).error.code, "SignatureDoesNotMatch");
}

TEST_F(OfficialV3Test, UnsignedAcsHeaderIsIncomplete) {
  ApiRequest request = OfficialV3Request();
  request.headers.emplace_back("x-acs-security-token", "token");
  AuthResult result = auth_.Verify(request);
  EXPECT_EQ(result.error.http_status, 400);
  EXPECT_EQ(result.error.code, "IncompleteSignature");
  EXPECT_THAT(result.error.message, HasSubstr("x-acs-security-token"));
}

TEST_F(OfficialV3Test, UnsignedHostIsIncomplete) {
  ApiRequest request = OfficialV3Request();
  std::string authorization = *request.Header("authorization");
  authorization.replace(authorization.find("host;"), 5, "");
  SetHeader(request, "authorization", authorization);
  AuthResult result = auth_.Verify(request);
  EXPECT_EQ(result.error.code, "IncompleteSignature");
  EXPECT_THAT(result.error.message, HasSubstr("host"));
}

TEST_F(OfficialV3Test, MissingAuthorizationPartsAreIncomplete) {
  for (std::string part :
       {"Credential=YourAccessKeyId,", "SignedHeaders=", ",Signature="}) {
    ApiRequest request = OfficialV3Request();
    std::string authorization = *request.Header("authorization");
    size_t at = authorization.find(part);
    ASSERT_NE(at, std::string::npos);
    authorization.replace(at, part.size(), part == ",Signature=" ? ",X=" : "");
    SetHeader(request, "authorization", authorization);
    AuthResult result = auth_.Verify(request);
    EXPECT_EQ(result.error.code, "IncompleteSignature") << part;
  }
}

TEST_F(OfficialV3Test, NoSignatureAtAllIsIncomplete) {
  ApiRequest request = OfficialV3Request();
  RemoveHeader(request, "authorization");
  AuthResult result = auth_.Verify(request);
  EXPECT_EQ(result.error.http_status, 400);
  EXPECT_EQ(result.error.code, "IncompleteSignature");
  EXPECT_EQ(result.error.message,
            "The request signature does not conform to Aliyun standards.");
}

TEST_F(OfficialV3Test, MissingRequiredHeaderIsMissingParameter) {
  for (std::string_view name : {"x-acs-date", "x-acs-signature-nonce",
                                "x-acs-action", "x-acs-version"}) {
    ApiRequest request = OfficialV3Request();
    RemoveHeader(request, name);
    AuthResult result = auth_.Verify(request);
    EXPECT_EQ(result.error.code, "MissingParameter") << name;
    EXPECT_THAT(result.error.message, HasSubstr(std::string(name)));
  }
}

TEST_F(OfficialV3Test, UnknownKeyIsNotFound) {
  FakeClock clock(At("2023-10-26T10:22:32Z"));
  Authenticator auth({{"OtherKeyId", "YourAccessKeySecret"}}, clock);
  AuthResult result = auth.Verify(OfficialV3Request());
  EXPECT_EQ(result.error.http_status, 404);
  EXPECT_EQ(result.error.code, "InvalidAccessKeyId.NotFound");
  EXPECT_EQ(result.error.message, "Specified access key is not found.");
  EXPECT_EQ(result.access_key_id, "");
}

TEST_F(OfficialV3Test, DateOffByMoreThanFifteenMinutesIsExpired) {
  clock_.Advance(std::chrono::minutes(15));
  EXPECT_TRUE(auth_.Verify(OfficialV3Request()).ok);
  clock_.Advance(std::chrono::seconds(1));
  AuthResult result = auth_.Verify(OfficialV3Request());
  EXPECT_EQ(result.error.code, "InvalidTimeStamp.Expired");
}

TEST_F(OfficialV3Test, DateInTheFutureIsExpired) {
  FakeClock clock(At("2023-10-26T10:06:31Z"));
  Authenticator auth({{"YourAccessKeyId", "YourAccessKeySecret"}}, clock);
  EXPECT_EQ(auth.Verify(OfficialV3Request()).error.code,
            "InvalidTimeStamp.Expired");
}

TEST_F(OfficialV3Test, BadDateIsFormatError) {
  ApiRequest request = OfficialV3Request();
  SetHeader(request, "x-acs-date", "2023-10-26 10:22:32");
  EXPECT_EQ(auth_.Verify(request).error.code, "InvalidTimeStamp.Format");
}

TEST_F(OfficialV3Test, ContentHashMustMatchBody) {
  ApiRequest request = OfficialV3Request();
  request.body = "ExportId=1";
  AuthResult result = auth_.Verify(request);
  EXPECT_EQ(result.error.code, "SignatureDoesNotMatch");
}

TEST_F(OfficialV3Test, ReusedNonceIsRejected) {
  EXPECT_TRUE(auth_.Verify(OfficialV3Request()).ok);
  AuthResult result = auth_.Verify(OfficialV3Request());
  EXPECT_EQ(result.error.http_status, 400);
  EXPECT_EQ(result.error.code, "SignatureNonceUsed");
}

TEST_F(OfficialV3Test, FailedRequestDoesNotUseTheNonce) {
  ApiRequest tampered = OfficialV3Request();
  tampered.target += "x";
  EXPECT_FALSE(auth_.Verify(tampered).ok);
  EXPECT_TRUE(auth_.Verify(OfficialV3Request()).ok);
}

TEST(Authenticator, NonceIsForgottenAfterFifteenMinutes) {
  FakeClock clock;
  Authenticator auth({{kKeyId, kKeySecret}}, clock);
  EXPECT_TRUE(auth.Verify(DescribeExportInfo("1", clock.Now(), "n1")).ok);
  clock.Advance(std::chrono::minutes(14));
  EXPECT_EQ(auth.Verify(DescribeExportInfo("1", clock.Now(), "n1")).error.code,
            "SignatureNonceUsed");
  clock.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(auth.Verify(DescribeExportInfo("1", clock.Now(), "n1")).ok);
}

TEST(Authenticator, NoncesArePerAccessKey) {
  FakeClock clock;
  Authenticator auth({{"A", "a"}, {"B", "b"}}, clock);
  auto request = [&](const char* id, const char* secret) {
    return DescribeExportInfo("1", clock.Now(), "same",
                              aliyun::SignatureVersion::kV3, "", id, secret);
  };
  EXPECT_TRUE(auth.Verify(request("A", "a")).ok);
  EXPECT_TRUE(auth.Verify(request("B", "b")).ok);
  EXPECT_FALSE(auth.Verify(request("A", "a")).ok);
}

TEST(Authenticator, OfficialV1ExampleVerifies) {
  FakeClock clock(At("2016-02-23T12:46:24Z"));
  Authenticator auth({{"testid", "testsecret"}}, clock);
  AuthResult result = auth.Verify(OfficialV1Request());
  ASSERT_TRUE(result.ok) << result.error.code << ": " << result.error.message;
  EXPECT_EQ(result.access_key_id, "testid");
  EXPECT_EQ(result.action, "DescribeRegions");
  EXPECT_EQ(result.version, "2014-05-26");
  EXPECT_TRUE(result.params.empty());
  EXPECT_EQ(auth.Verify(OfficialV1Request()).error.code, "SignatureNonceUsed");
}

TEST(Authenticator, V1Rejections) {
  FakeClock clock(At("2016-02-23T12:46:24Z"));
  struct Case {
    std::string from, to, code;
  } cases[] = {
      {"Action=DescribeRegions", "Action=DescribeZones",
       "SignatureDoesNotMatch"},
      {"SignatureMethod=HMAC-SHA1", "SignatureMethod=HMAC-SHA256",
       "InvalidSignatureMethod"},
      {"SignatureVersion=1.0&", "", "MissingParameter"},
      {"Format=XML&", "", "MissingParameter"},
      {"AccessKeyId=testid", "AccessKeyId=other",
       "InvalidAccessKeyId.NotFound"},
      {"12%3A46%3A24Z", "12%3A30%3A00Z", "InvalidTimeStamp.Expired"},
      {"2016-02-23T12%3A46%3A24Z", "1456231584", "InvalidTimeStamp.Format"},
  };
  for (const Case& c : cases) {
    Authenticator auth({{"testid", "testsecret"}}, clock);
    ApiRequest request = OfficialV1Request();
    size_t at = request.target.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    request.target.replace(at, c.from.size(), c.to);
    EXPECT_EQ(auth.Verify(request).error.code, c.code) << c.from;
  }
}

TEST(Authenticator, V1MismatchEchoesStringToSign) {
  FakeClock clock(At("2016-02-23T12:46:24Z"));
  Authenticator auth({{"testid", "othersecret"}}, clock);
  AuthResult result = auth.Verify(OfficialV1Request());
  EXPECT_EQ(result.error.code, "SignatureDoesNotMatch");
  EXPECT_THAT(
      result.error.message,
      HasSubstr("server string to sign is:GET&%2F&AccessKeyId%3Dtestid"));
}

TEST(Authenticator, V1ParametersMayComeInAFormBody) {
  FakeClock clock(At("2016-02-23T12:46:24Z"));
  Authenticator auth({{"testid", "testsecret"}}, clock);
  ApiRequest request = OfficialV1Request();
  // Move Action into the body; the signature covers query and body alike.
  size_t at = request.target.find("Action=DescribeRegions&");
  request.target.erase(at, std::string("Action=DescribeRegions&").size());
  request.body = "Action=DescribeRegions";
  request.headers.emplace_back("Content-Type",
                               "application/x-www-form-urlencoded");
  AuthResult result = auth.Verify(request);
  ASSERT_TRUE(result.ok) << result.error.message;
  EXPECT_EQ(result.action, "DescribeRegions");
}

TEST(Authenticator, AcceptsExporterRequestsV3AndV1) {
  FakeClock clock;
  Authenticator auth({{kKeyId, kKeySecret}}, clock);
  for (auto version :
       {aliyun::SignatureVersion::kV3, aliyun::SignatureVersion::kV1}) {
    std::string nonce =
        version == aliyun::SignatureVersion::kV3 ? "nonce-v3" : "nonce-v1";
    AuthResult result = auth.Verify(
        DescribeExportInfo("1001", clock.Now(), nonce, version, "1234567"));
    ASSERT_TRUE(result.ok) << result.error.code << ": " << result.error.message;
    EXPECT_EQ(result.action, "DescribeExportInfo");
    EXPECT_EQ(result.version, "2018-12-03");
    EXPECT_THAT(result.params,
                ::testing::UnorderedElementsAre(
                    std::pair<std::string, std::string>("ExportId", "1001"),
                    std::pair<std::string, std::string>(
                        "ResourceDirectoryAccountId", "1234567")));
  }
}

}  // namespace
}  // namespace sas::simulator
