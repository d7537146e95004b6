// The ECS instance metadata service through the Service: the IMDSv2 token,
// the IMDSv1 fallback, require_token, the role listing and credentials.

#include "simulator/metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "simulator/service.h"
#include "support/fake_clock.h"
#include "test_requests.h"

namespace sas::simulator {
namespace {

using ::sas::testing::FakeClock;

using nlohmann::json;
using testing::kKeyId;
using testing::kKeySecret;
using ::testing::MatchesRegex;

constexpr char kRoles[] = R"(
[[role]]
arn = "acs:ram::1234567890123456:role/ecs-reader"

[[access]]
principal = "acs:ram::1234567890123456:role/ecs-reader"
rd_account_ids = [111]

[[export]]
id = 1
)";

constexpr char kListing[] = "/latest/meta-data/ram/security-credentials/";
constexpr char kRolePath[] =
    "/latest/meta-data/ram/security-credentials/EcsSasReader";

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Reset(
        "[metadata]\nrole_name = \"EcsSasReader\"\n"
        "role_arn = \"acs:ram::1234567890123456:role/ecs-reader\"\n");
  }

  void Reset(const std::string& metadata_toml) {
    std::string error;
    std::optional<Scenario> scenario = ParseScenario(
        std::string(kRoles) + metadata_toml, "metadata.toml", &error);
    ASSERT_TRUE(scenario.has_value()) << error;
    service_ = std::make_unique<Service>(std::move(*scenario),
                                         KeyPairs{{kKeyId, kKeySecret}}, clock_,
                                         std::make_unique<SeededRandom>(5));
  }

  ApiResponse Call(const std::string& method, const std::string& path,
                   aliyun::Headers headers = {}) {
    ApiRequest request;
    request.method = method;
    request.target = path;
    request.headers = std::move(headers);
    request.headers.emplace_back("Host", "100.100.100.200");
    return service_->Handle(request);
  }

  ApiResponse PutToken(const std::string& ttl) {
    return Call("PUT", "/latest/api/token",
                {{"X-aliyun-ecs-metadata-token-ttl-seconds", ttl}});
  }

  std::string Token(const std::string& ttl = "21600") {
    ApiResponse response = PutToken(ttl);
    EXPECT_EQ(response.status, 200) << response.body;
    return response.body;
  }

  static aliyun::Headers WithToken(const std::string& token) {
    return {{"X-aliyun-ecs-metadata-token", token}};
  }

  json Stats() { return json::parse(service_->StatsJson()); }

  FakeClock clock_;
  std::unique_ptr<Service> service_;
};

TEST_F(MetadataTest, TokenDance) {
  ApiResponse put = PutToken("21600");
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(put.Header("content-type"), "text/plain");
  EXPECT_EQ(put.code, "Success");
  EXPECT_THAT(put.body, MatchesRegex("[A-Za-z0-9]{56}"));
  std::string token = put.body;

  ApiResponse listing = Call("GET", kListing, WithToken(token));
  EXPECT_EQ(listing.status, 200);
  EXPECT_EQ(listing.Header("content-type"), "text/plain");
  EXPECT_EQ(listing.body, "EcsSasReader");
  // Also without the trailing slash.
  EXPECT_EQ(Call("GET", std::string(kListing).substr(0, sizeof(kListing) - 2),
                 WithToken(token))
                .body,
            "EcsSasReader");

  ApiResponse credentials = Call("GET", kRolePath, WithToken(token));
  ASSERT_EQ(credentials.status, 200) << credentials.body;
  EXPECT_EQ(credentials.Header("content-type"), "application/json");
  json body = json::parse(credentials.body);
  EXPECT_EQ(body["Code"], "Success");
  EXPECT_THAT(body["AccessKeyId"].get<std::string>(),
              MatchesRegex("STS\\.[A-Za-z0-9]{24}"));
  EXPECT_THAT(body["AccessKeySecret"].get<std::string>(),
              MatchesRegex("[A-Za-z0-9]{44}"));
  EXPECT_THAT(body["SecurityToken"].get<std::string>(),
              MatchesRegex("CAIS[A-Za-z0-9+/=]+"));
  EXPECT_EQ(body["Expiration"],
            FormatIso8601(clock_.Now() + std::chrono::hours(6)));
  EXPECT_EQ(body["LastUpdated"], FormatIso8601(clock_.Now()));

  // Each GET issues fresh credentials.
  json again = json::parse(Call("GET", kRolePath, WithToken(token)).body);
  EXPECT_NE(again["AccessKeyId"], body["AccessKeyId"]);

  EXPECT_EQ(Stats()["metadata"],
            json::parse(R"({"token": 1, "credentials": 4})"));
  EXPECT_EQ(Stats()["by_code"]["Success"], 5);
}

TEST_F(MetadataTest, CredentialsCarryTheInstanceRole) {
  json body = json::parse(Call("GET", kRolePath, WithToken(Token())).body);
  aliyun::Credentials credentials{body["AccessKeyId"], body["AccessKeySecret"],
                                  body["SecurityToken"], std::nullopt};
  for (auto version :
       {aliyun::SignatureVersion::kV3, aliyun::SignatureVersion::kV1}) {
    ApiResponse ok = service_->Handle(testing::DescribeExportInfo(
        "1", clock_.Now(), "ok-" + std::to_string(static_cast<int>(version)),
        version, "111", credentials.access_key_id,
        credentials.access_key_secret));
    // DescribeExportInfo() sends no token: temporary credentials need it.
    EXPECT_EQ(json::parse(ok.body)["Code"], "MissingSecurityToken");
    aliyun::RpcCall call{
        "DescribeExportInfo",
        "2018-12-03",
        {{"ExportId", "1"}, {"ResourceDirectoryAccountId", "111"}}};
    EXPECT_EQ(service_
                  ->Handle(testing::Signed(
                      call, credentials, clock_.Now(),
                      "a" + std::to_string(static_cast<int>(version)), version))
                  .status,
              200);
    call.params.back().second = "222";
    EXPECT_EQ(
        json::parse(
            service_
                ->Handle(testing::Signed(
                    call, credentials, clock_.Now(),
                    "b" + std::to_string(static_cast<int>(version)), version))
                .body)["Code"],
        "RdCheckNoPermission");
  }
}

TEST_F(MetadataTest, CredentialLifetimeAndExpiry) {
  Reset(
      "[metadata]\nrole_name = \"EcsSasReader\"\n"
      "role_arn = \"acs:ram::1234567890123456:role/ecs-reader\"\n"
      "credential_lifetime = \"30s\"\n");
  json body = json::parse(Call("GET", kRolePath).body);
  EXPECT_EQ(body["Expiration"],
            FormatIso8601(clock_.Now() + std::chrono::seconds(30)));
  aliyun::Credentials credentials{body["AccessKeyId"], body["AccessKeySecret"],
                                  body["SecurityToken"], std::nullopt};
  aliyun::RpcCall call{"DescribeExportInfo", "2018-12-03", {{"ExportId", "1"}}};
  EXPECT_EQ(
      service_->Handle(testing::Signed(call, credentials, clock_.Now(), "1"))
          .status,
      200);
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(json::parse(service_
                            ->Handle(testing::Signed(call, credentials,
                                                     clock_.Now(), "2"))
                            .body)["Code"],
            "InvalidSecurityToken.Expired");
}

TEST_F(MetadataTest, TokenTtlHeaderIsChecked) {
  for (std::string bad : {"0", "21601", "-1", "abc", "", "60s", " 60"}) {
    ApiResponse response = PutToken(bad);
    EXPECT_EQ(response.status, 400) << bad;
    EXPECT_EQ(response.code, "BadRequest") << bad;
  }
  ApiResponse missing = Call("PUT", "/latest/api/token");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Token("1").size(), 56u);
  // Any case of the header name.
  EXPECT_EQ(Call("PUT", "/latest/api/token",
                 {{"x-aliyun-ecs-metadata-token-ttl-seconds", "5"}})
                .status,
            200);
  EXPECT_EQ(Stats()["metadata"]["token"], 10);
}

TEST_F(MetadataTest, TokensExpireAfterTheirTtl) {
  std::string token = Token("60");
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_EQ(Call("GET", kRolePath, WithToken(token)).status, 200);
  clock_.Advance(std::chrono::seconds(1));
  ApiResponse expired = Call("GET", kRolePath, WithToken(token));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.code, "Unauthorized");
}

TEST_F(MetadataTest, InvalidTokenIsUnauthorized) {
  Token();
  for (std::string path : {std::string(kListing), std::string(kRolePath)}) {
    ApiResponse response = Call("GET", path, WithToken("not-a-token"));
    EXPECT_EQ(response.status, 401) << path;
    EXPECT_EQ(response.Header("content-type"), "text/plain");
    EXPECT_THAT(response.body, ::testing::Not(::testing::HasSubstr("not-a")));
  }
}

TEST_F(MetadataTest, WithoutATokenV1IsAllowedByDefault) {
  EXPECT_EQ(Call("GET", kListing).body, "EcsSasReader");
  EXPECT_EQ(Call("GET", kRolePath).status, 200);
}

TEST_F(MetadataTest, RequireTokenRefusesV1) {
  Reset(
      "[metadata]\nrole_name = \"EcsSasReader\"\n"
      "role_arn = \"acs:ram::1234567890123456:role/ecs-reader\"\n"
      "require_token = true\n");
  for (std::string path : {std::string(kListing), std::string(kRolePath)}) {
    ApiResponse response = Call("GET", path);
    EXPECT_EQ(response.status, 403) << path;
    EXPECT_EQ(response.code, "Forbidden");
  }
  std::string token = Token();
  EXPECT_EQ(Call("GET", kListing, WithToken(token)).status, 200);
  EXPECT_EQ(Call("GET", kRolePath, WithToken(token)).status, 200);
  // The token is checked before the role name.
  EXPECT_EQ(Call("GET", std::string(kListing) + "Other").status, 403);
}

TEST_F(MetadataTest, NotFoundAndMethods) {
  std::string token = Token();
  ApiResponse other_role =
      Call("GET", std::string(kListing) + "OtherRole", WithToken(token));
  EXPECT_EQ(other_role.status, 404);
  EXPECT_EQ(other_role.code, "NotFound");
  for (std::string path :
       {"/latest/meta-data/", "/latest/meta-data/instance-id", "/latest/",
        "/latest/api/token/x", "/latest/meta-data/ram/"}) {
    EXPECT_EQ(Call("GET", path, WithToken(token)).status, 404) << path;
  }
  EXPECT_EQ(Call("GET", "/latest/api/token").status, 405);
  EXPECT_EQ(Call("PUT", kRolePath).status, 405);
  EXPECT_EQ(Call("POST", kListing).code, "MethodNotAllowed");
}

TEST_F(MetadataTest, NoMetadataSectionAnswers404Everywhere) {
  Reset("");
  EXPECT_EQ(PutToken("21600").status, 404);
  EXPECT_EQ(Call("GET", kListing).status, 404);
  EXPECT_EQ(Call("GET", kRolePath).status, 404);
  EXPECT_EQ(Call("GET", "/latest/meta-data/").status, 404);
  // Failures are not injected where there is no service.
  service_->HandleFailSwitch(
      {"GET", "/_simulator/fail?service=metadata&count=1", {}, ""});
  EXPECT_EQ(Call("GET", kRolePath).status, 404);
  EXPECT_EQ(Stats()["by_code"]["NotFound"], 5);
  EXPECT_EQ(Stats()["metadata"],
            json::parse(R"({"token": 1, "credentials": 3})"));
}

TEST_F(MetadataTest, FailSwitchFailsCredentialGetsOnly) {
  std::string token = Token();
  service_->HandleFailSwitch(
      {"GET", "/_simulator/fail?service=metadata&count=2", {}, ""});
  EXPECT_EQ(Token().size(), 56u);  // PUT unaffected
  ApiResponse first = Call("GET", kListing, WithToken(token));
  EXPECT_EQ(first.status, 503);
  EXPECT_EQ(first.code, "ServiceUnavailable");
  EXPECT_EQ(Call("GET", kRolePath, WithToken(token)).status, 503);
  EXPECT_EQ(Call("GET", kRolePath, WithToken(token)).status, 200);
  EXPECT_EQ(Stats()["by_code"]["ServiceUnavailable"], 2);
}

TEST(MetadataRoute, Classifies) {
  EXPECT_EQ(RouteOf("/latest/api/token"), MetadataRoute::kToken);
  EXPECT_EQ(RouteOf("/latest/meta-data/ram/security-credentials/"),
            MetadataRoute::kCredentials);
  EXPECT_EQ(RouteOf("/latest/meta-data/ram/security-credentials"),
            MetadataRoute::kCredentials);
  EXPECT_EQ(RouteOf("/latest/meta-data/ram/security-credentials/R"),
            MetadataRoute::kCredentials);
  EXPECT_EQ(RouteOf("/latest/meta-data/ram/"), MetadataRoute::kOther);
}

}  // namespace
}  // namespace sas::simulator
