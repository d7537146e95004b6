#include "aliyun/signing.h"

#include <gtest/gtest.h>

#include <string>

namespace sas::aliyun {
namespace {

// The official example of the "V3 request structure and signature" page.
V3Input OfficialV3Example() {
  V3Input input;
  input.method = "POST";
  input.canonical_uri = "/";
  input.query = {
      {"ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"},
      {"RegionId", "cn-shanghai"}};
  input.headers = {
      {"host", "ecs.cn-shanghai.aliyuncs.com"},
      {"x-acs-action", "RunInstances"},
      {"x-acs-version", "2014-05-26"},
      {"x-acs-date", "2023-10-26T10:22:32Z"},
      {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
      {"x-acs-content-sha256", std::string(kEmptyBodySha256)}};
  input.hashed_payload = std::string(kEmptyBodySha256);
  return input;
}

TEST(SignV3, MatchesOfficialExample) {
  V3Signature signature =
      SignV3(OfficialV3Example(), "YourAccessKeyId", "YourAccessKeySecret");
  EXPECT_EQ(HexSha256(signature.canonical_request),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
  EXPECT_EQ(signature.signed_headers,
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;"
            "x-acs-signature-nonce;x-acs-version");
  EXPECT_EQ(signature.string_to_sign,
            "ACS3-HMAC-SHA256\n"
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
  EXPECT_EQ(signature.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
  EXPECT_EQ(signature.authorization,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;"
            "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-"
            "nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24"
            "a1d853912eee15083a6f0f3283c0");
}

TEST(SignV3, OfficialExampleCanonicalRequestLayout) {
  V3Signature signature =
      SignV3(OfficialV3Example(), "YourAccessKeyId", "YourAccessKeySecret");
  EXPECT_EQ(signature.canonical_request,
            "POST\n/\n"
            "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&"
            "RegionId=cn-shanghai\n"
            "host:ecs.cn-shanghai.aliyuncs.com\n"
            "x-acs-action:RunInstances\n"
            "x-acs-content-sha256:" +
                std::string(kEmptyBodySha256) +
                "\n"
                "x-acs-date:2023-10-26T10:22:32Z\n"
                "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
                "x-acs-version:2014-05-26\n"
                "\n"
                "host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                "x-acs-signature-nonce;x-acs-version\n" +
                std::string(kEmptyBodySha256));
}

TEST(SignV3, MatchesSdkUnitTestVector) {
  V3Input input;
  input.method = "GET";
  input.canonical_uri = "";
  input.query = {{"test", "ok"}, {"empty", ""}};
  input.headers = {{"x-acs-test", "http"}, {"x-acs-TEST", "https"}};
  input.hashed_payload =
      "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23";
  V3Signature signature = SignV3(input, "acesskey", "secret");
  EXPECT_EQ(signature.authorization,
            "ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,"
            "Signature=d16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e516"
            "19aa50be1");
  EXPECT_NE(signature.canonical_request.find("\nx-acs-test:http,https\n"),
            std::string::npos);
  EXPECT_NE(signature.canonical_request.find("\nempty=&test=ok\n"),
            std::string::npos);
  EXPECT_EQ(signature.canonical_request.substr(0, 6), "GET\n/\n");
}

TEST(SignV3, SignsOnlyHostContentTypeAndAcsHeaders) {
  V3Input input;
  input.method = "POST";
  input.canonical_uri = "/";
  input.headers = {{"Accept", "application/json"},
                   {"User-Agent", "ua"},
                   {"Content-Type", " application/json "},
                   {"X-Acs-Date", "2023-10-26T10:22:32Z"},
                   {"Host", "example.com"}};
  input.hashed_payload = std::string(kEmptyBodySha256);
  V3Signature signature = SignV3(input, "id", "secret");
  EXPECT_EQ(signature.signed_headers, "content-type;host;x-acs-date");
  EXPECT_NE(signature.canonical_request.find(
                "content-type:application/json\nhost:example.com\n"
                "x-acs-date:2023-10-26T10:22:32Z\n\n"),
            std::string::npos);
}

TEST(SignV3, SecretChangesSignature) {
  V3Signature a = SignV3(OfficialV3Example(), "YourAccessKeyId", "one");
  V3Signature b = SignV3(OfficialV3Example(), "YourAccessKeyId", "two");
  EXPECT_EQ(a.canonical_request, b.canonical_request);
  EXPECT_NE(a.signature, b.signature);
  EXPECT_EQ(a.authorization.find("one"), std::string::npos);
}

TEST(CanonicalRequestV3, ReconstructsSignedRequest) {
  V3Input input = OfficialV3Example();
  input.headers.emplace_back("accept", "application/json");
  input.headers.emplace_back("user-agent", "test");
  V3Signature signature =
      SignV3(input, "YourAccessKeyId", "YourAccessKeySecret");
  std::string rebuilt = CanonicalRequestV3(
      input.method, input.canonical_uri, input.query, input.headers,
      {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date",
       "x-acs-signature-nonce", "x-acs-version"},
      input.hashed_payload);
  EXPECT_EQ(rebuilt, signature.canonical_request);
}

TEST(CanonicalRequestV3, IgnoresHeadersNotSigned) {
  Headers headers = {{"host", "h"}, {"x-acs-date", "d"}, {"x-acs-extra", "e"}};
  std::string rebuilt = CanonicalRequestV3(
      "POST", "/", {}, headers, {"host", "x-acs-date"}, kEmptyBodySha256);
  EXPECT_EQ(rebuilt, "POST\n/\n\nhost:h\nx-acs-date:d\n\nhost;x-acs-date\n" +
                         std::string(kEmptyBodySha256));
}

TEST(SignV1, MatchesOfficialExample) {
  Params params = {{"AccessKeyId", "testid"},
                   {"Action", "DescribeRegions"},
                   {"Format", "XML"},
                   {"SignatureMethod", "HMAC-SHA1"},
                   {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
                   {"SignatureVersion", "1.0"},
                   {"Timestamp", "2016-02-23T12:46:24Z"},
                   {"Version", "2014-05-26"}};
  EXPECT_EQ(StringToSignV1("GET", params),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format"
            "%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8"
            "-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp"
            "%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26");
  EXPECT_EQ(SignV1("GET", params, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
}

TEST(SignV1, IgnoresSignatureParameterAndOrder) {
  Params params = {{"Version", "2014-05-26"},
                   {"Timestamp", "2016-02-23T12:46:24Z"},
                   {"Signature", "whatever"},
                   {"SignatureVersion", "1.0"},
                   {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
                   {"SignatureMethod", "HMAC-SHA1"},
                   {"Format", "XML"},
                   {"Action", "DescribeRegions"},
                   {"AccessKeyId", "testid"}};
  EXPECT_EQ(SignV1("GET", params, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
}

TEST(PercentEncode, FollowsRfc3986) {
  EXPECT_EQ(PercentEncode("a b"), "a%20b");
  EXPECT_EQ(PercentEncode("*"), "%2A");
  EXPECT_EQ(PercentEncode("~"), "~");
  EXPECT_EQ(PercentEncode("+"), "%2B");
  EXPECT_EQ(PercentEncode("/"), "%2F");
  EXPECT_EQ(PercentEncode("="), "%3D");
  EXPECT_EQ(PercentEncode("&"), "%26");
  EXPECT_EQ(PercentEncode("%"), "%25");
  EXPECT_EQ(PercentEncode(":"), "%3A");
  EXPECT_EQ(PercentEncode("AZaz09-_."), "AZaz09-_.");
  EXPECT_EQ(PercentEncode("中文"), "%E4%B8%AD%E6%96%87");
  EXPECT_EQ(PercentEncode(std::string_view("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(CanonicalQueryString, SortsByByteAndEncodes) {
  EXPECT_EQ(CanonicalQueryString({}), "");
  EXPECT_EQ(CanonicalQueryString({{"b", "2"}, {"a", "1"}}), "a=1&b=2");
  // Uppercase sorts before lowercase; '_' (0x5F) between them.
  EXPECT_EQ(CanonicalQueryString({{"a", "1"}, {"_", "2"}, {"B", "3"}}),
            "B=3&_=2&a=1");
  EXPECT_EQ(CanonicalQueryString({{"empty", ""}}), "empty=");
  EXPECT_EQ(CanonicalQueryString({{"k", "a b*c~d+e/f"}}),
            "k=a%20b%2Ac~d%2Be%2Ff");
  EXPECT_EQ(CanonicalQueryString({{"名", "中文"}}),
            "%E5%90%8D=%E4%B8%AD%E6%96%87");
  // Names compare as unsigned bytes: UTF-8 sorts after ASCII.
  EXPECT_EQ(CanonicalQueryString({{"\xc3\xa9", "1"}, {"z", "2"}}),
            "z=2&%C3%A9=1");
  EXPECT_EQ(CanonicalQueryString({{"ab", "1"}, {"a", "2"}}), "a=2&ab=1");
}

TEST(CanonicalQueryString, RepeatedNamesKeepValueOrder) {
  EXPECT_EQ(CanonicalQueryString({{"x", "2"}, {"a", "0"}, {"x", "1"}}),
            "a=0&x=2&x=1");
}

TEST(Digests, MatchKnownValues) {
  EXPECT_EQ(HexSha256(""), kEmptyBodySha256);
  EXPECT_EQ(HexSha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexHmacSha256("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 2202 test case 2, base64.
  EXPECT_EQ(Base64HmacSha1("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk=");
  EXPECT_EQ(HexHmacSha256("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  // RFC 4231 test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(HexHmacSha256(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key "
                          "First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(ParseQueryString, DecodesPairsInOrder) {
  Params params;
  ASSERT_TRUE(ParseQueryString("b=%20x&a=1&empty=&bare&plus=a+b", &params));
  Params expected = {
      {"b", " x"}, {"a", "1"}, {"empty", ""}, {"bare", ""}, {"plus", "a+b"}};
  EXPECT_EQ(params, expected);
  ASSERT_TRUE(ParseQueryString("", &params));
  EXPECT_TRUE(params.empty());
  ASSERT_TRUE(ParseQueryString("k=%E4%B8%AD%e6%96%87", &params));
  EXPECT_EQ(params, (Params{{"k", "中文"}}));
}

TEST(ParseQueryString, RejectsMalformedEscapes) {
  Params params;
  EXPECT_FALSE(ParseQueryString("a=%", &params));
  EXPECT_FALSE(ParseQueryString("a=%2", &params));
  EXPECT_FALSE(ParseQueryString("a=%zz", &params));
  EXPECT_FALSE(ParseQueryString("%g0=1", &params));
}

TEST(ParseQueryString, RoundTripsCanonicalQueryString) {
  Params original = {{"a b", "c*d"}, {"x", "中文/+="}, {"e", ""}};
  Params parsed;
  ASSERT_TRUE(ParseQueryString(CanonicalQueryString(original), &parsed));
  EXPECT_EQ(CanonicalQueryString(parsed), CanonicalQueryString(original));
}

}  // namespace
}  // namespace sas::aliyun
