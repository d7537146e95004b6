// STS through the Service: AssumeRole (by long-lived keys and by issued
// credentials, i.e. role chains) and AssumeRoleWithOIDC, every check.

#include "simulator/sts.h"

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
using testing::AssumeRole;
using ::testing::HasSubstr;
using testing::kKeyId;
using testing::kKeySecret;
using testing::LongLivedKey;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::UnsignedSts;

constexpr char kAdmin[] = "acs:ram::1234567890123456:role/admin";
constexpr char kReader[] = "acs:ram::1234567890123456:role/sas-reader";
constexpr char kExternal[] = "acs:ram::1234567890123456:role/external";
constexpr char kRrsa[] = "acs:ram::1234567890123456:role/rrsa";
constexpr char kProvider[] = "acs:ram::1234567890123456:oidc-provider/ack-rrsa";
constexpr char kOidcToken[] = "eyJhbGciOiJSUzI1NiJ9.payload.signature";

constexpr char kRoles[] = R"(
[[role]]
arn = "acs:ram::1234567890123456:role/admin"
max_duration = "2h"
trusted_principals = ["LTAIsimulatortest"]

[[role]]
arn = "acs:ram::1234567890123456:role/sas-reader"
trusted_principals = ["acs:ram::1234567890123456:role/admin"]

[[role]]
arn = "acs:ram::1234567890123456:role/external"
trusted_principals = ["LTAIsimulatortest"]
external_id = "ext-123"

[[role]]
arn = "acs:ram::1234567890123456:role/rrsa"
max_duration = "15m"
oidc_provider_arn = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
oidc_tokens = ["other-token", "eyJhbGciOiJSUzI1NiJ9.payload.signature"]

[[export]]
id = 1
)";

class StsTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(""); }

  void Reset(const std::string& extra_toml) {
    std::string error;
    std::optional<Scenario> scenario =
        ParseScenario(std::string(kRoles) + extra_toml, "sts.toml", &error);
    ASSERT_TRUE(scenario.has_value()) << error;
    service_ = std::make_unique<Service>(std::move(*scenario),
                                         KeyPairs{{kKeyId, kKeySecret}}, clock_,
                                         std::make_unique<SeededRandom>(7));
  }

  std::string Nonce() { return "sts-nonce-" + std::to_string(++nonce_); }

  ApiResponse Assume(
      const std::string& role_arn, aliyun::Params extra = {},
      const aliyun::Credentials& caller = LongLivedKey(),
      aliyun::SignatureVersion version = aliyun::SignatureVersion::kV1) {
    return service_->Handle(AssumeRole(role_arn, caller, clock_.Now(), Nonce(),
                                       std::move(extra), version));
  }

  // AssumeRoleWithOIDC with the usual parameters, `overrides` replacing
  // (or, with an empty value, removing) them.
  ApiResponse Oidc(const aliyun::Params& overrides = {}, bool form = false) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"Action", "AssumeRoleWithOIDC"},
        {"Version", "2015-04-01"},
        {"Format", "JSON"},
        {"Timestamp", FormatIso8601(clock_.Now())},
        {"SignatureNonce", Nonce()},
        {"RoleArn", kRrsa},
        {"OIDCProviderArn", kProvider},
        {"OIDCToken", kOidcToken},
        {"RoleSessionName", "rrsa-session"}};
    for (const auto& [name, value] : overrides) {
      std::erase_if(params,
                    [&name = name](const auto& p) { return p.first == name; });
      if (!value.empty()) params.emplace_back(name, value);
    }
    return service_->Handle(UnsignedSts(params, form));
  }

  static std::string Code(const ApiResponse& response) {
    return json::parse(response.body).value("Code", "");
  }

  // The credentials of a successful STS answer.
  aliyun::Credentials CredentialsOf(const ApiResponse& response) {
    EXPECT_EQ(response.status, 200) << response.body;
    json c = json::parse(response.body)["Credentials"];
    return {c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"],
            std::nullopt};
  }

  std::string Expiration(const ApiResponse& response) {
    return json::parse(response.body)["Credentials"]["Expiration"];
  }

  std::string In(std::chrono::seconds from_now) {
    return FormatIso8601(clock_.Now() + from_now);
  }

  json Stats() { return json::parse(service_->StatsJson()); }

  FakeClock clock_;
  int nonce_ = 0;
  std::unique_ptr<Service> service_;
};

TEST_F(StsTest, AssumeRoleByLongLivedKey) {
  ApiResponse response = Assume(kAdmin);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.code, "Success");
  EXPECT_EQ(response.Header("content-type"), "application/json;charset=utf-8");
  json body = json::parse(response.body);
  EXPECT_EQ(response.Header("x-acs-request-id"), body["RequestId"]);
  EXPECT_EQ(body["AssumedRoleUser"]["Arn"],
            "acs:ram::1234567890123456:assumed-role/admin/sim-session");
  EXPECT_THAT(body["AssumedRoleUser"]["AssumedRoleId"].get<std::string>(),
              MatchesRegex("[1-9][0-9]{17}:sim-session"));
  json credentials = body["Credentials"];
  EXPECT_THAT(credentials["AccessKeyId"].get<std::string>(),
              MatchesRegex("STS\\.[A-Za-z0-9]{24}"));
  EXPECT_THAT(credentials["AccessKeySecret"].get<std::string>(),
              MatchesRegex("[A-Za-z0-9]{44}"));
  std::string token = credentials["SecurityToken"];
  EXPECT_THAT(token, MatchesRegex("CAIS[A-Za-z0-9+/=]+"));
  EXPECT_GE(token.size(), 300u);
  EXPECT_EQ(credentials["Expiration"], In(std::chrono::hours(1)));
  EXPECT_EQ(Stats()["sts"], json::parse(R"({"AssumeRole": 1,
      "AssumeRoleWithOIDC": 0})"));
  EXPECT_EQ(Stats()["by_access_key"][kKeyId], 1);

  // V3 is accepted too; every call issues new credentials.
  ApiResponse v3 =
      Assume(kAdmin, {}, LongLivedKey(), aliyun::SignatureVersion::kV3);
  EXPECT_EQ(v3.status, 200) << v3.body;
  EXPECT_NE(CredentialsOf(v3).access_key_id,
            credentials["AccessKeyId"].get<std::string>());
}

TEST_F(StsTest, AssumeRoleParametersMayComeInAFormBody) {
  aliyun::RpcCall call{
      "AssumeRole",
      "2015-04-01",
      {{"RoleArn", kAdmin}, {"RoleSessionName", "form-session"}}};
  ApiRequest request = testing::Signed(call, LongLivedKey(), clock_.Now(), "f");
  // Move the query into a form body: the V1 signature covers both alike.
  request.body = request.target.substr(2);
  request.target = "/";
  request.headers.emplace_back("Content-Type",
                               "application/x-www-form-urlencoded");
  ApiResponse response = service_->Handle(request);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["AssumedRoleUser"]["Arn"],
            "acs:ram::1234567890123456:assumed-role/admin/form-session");
}

TEST_F(StsTest, DurationSeconds) {
  EXPECT_EQ(Expiration(Assume(kAdmin, {{"DurationSeconds", "900"}})),
            In(std::chrono::seconds(900)));
  EXPECT_EQ(Expiration(Assume(kAdmin, {{"DurationSeconds", "7200"}})),
            In(std::chrono::hours(2)));
  for (std::string bad : {"899", "7201", "0", "-900", "abc", "900.5", " 900"}) {
    ApiResponse response = Assume(kAdmin, {{"DurationSeconds", bad}});
    EXPECT_EQ(response.status, 400) << bad;
    EXPECT_EQ(Code(response), "InvalidParameter.DurationSeconds") << bad;
  }
  // The default is 3600, or the role's maximum when that is shorter.
  EXPECT_EQ(Expiration(Oidc()), In(std::chrono::minutes(15)));
  EXPECT_EQ(Code(Oidc({{"DurationSeconds", "901"}})),
            "InvalidParameter.DurationSeconds");
}

TEST_F(StsTest, ScenarioLifetimeCapsIssuedCredentials) {
  Reset("[sts]\ncredential_lifetime = \"20s\"\n");
  EXPECT_EQ(Expiration(Assume(kAdmin)), In(std::chrono::seconds(20)));
  EXPECT_EQ(Expiration(Assume(kAdmin, {{"DurationSeconds", "900"}})),
            In(std::chrono::seconds(20)));
  EXPECT_EQ(Expiration(Oidc()), In(std::chrono::seconds(20)));
  // Still only a cap: the duration checks are unchanged.
  EXPECT_EQ(Code(Assume(kAdmin, {{"DurationSeconds", "60"}})),
            "InvalidParameter.DurationSeconds");
}

TEST_F(StsTest, RoleArnChecks) {
  ApiResponse missing = Assume("");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Code(missing), "MissingParameter");
  EXPECT_THAT(json::parse(missing.body)["Message"].get<std::string>(),
              HasSubstr("\"RoleArn\""));
  for (std::string bad :
       {"admin", "acs:ram::1234567890123456:role/", "acs:ram::12a4:role/admin",
        "acs:ram:::role/admin", "acs:ram::1234567890123456:user/admin",
        "acs:ram::1234567890123456:role/ad min",
        "acs:ecs::1234567890123456:role/admin"}) {
    ApiResponse response = Assume(bad);
    EXPECT_EQ(response.status, 400) << bad;
    EXPECT_EQ(Code(response), "InvalidParameter.RoleArn") << bad;
  }
  ApiResponse unknown = Assume("acs:ram::1234567890123456:role/nobody");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Code(unknown), "EntityNotExist.Role");
  // Another account's role of the same name is another role.
  EXPECT_EQ(Code(Assume("acs:ram::999:role/admin")), "EntityNotExist.Role");
}

TEST_F(StsTest, UntrustedCallerHasNoPermission) {
  ApiResponse response = Assume(kReader);
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(Code(response), "NoPermission");
  EXPECT_EQ(json::parse(response.body)["Message"],
            "You are not authorized to do this action. You should be "
            "authorized by RAM.");
  EXPECT_EQ(Code(Assume(kRrsa)), "NoPermission");  // trusts nobody
}

TEST_F(StsTest, RoleSessionNameChecks) {
  ApiResponse missing = Assume(kAdmin, {{"RoleSessionName", ""}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Code(missing), "MissingParameter");
  for (std::string bad :
       std::vector<std::string>{"a", std::string(65, 'x'), "has space", "a/b",
                                "a:b", "\xc3\xbcmlaut"}) {
    ApiResponse response = Assume(kAdmin, {{"RoleSessionName", bad}});
    EXPECT_EQ(response.status, 400) << bad;
    EXPECT_EQ(Code(response), "InvalidParameter.RoleSessionName") << bad;
  }
  for (std::string good :
       std::vector<std::string>{"ab", std::string(64, 'x'), "A.z@0_9-x"}) {
    EXPECT_EQ(Assume(kAdmin, {{"RoleSessionName", good}}).status, 200) << good;
  }
}

TEST_F(StsTest, ExternalIdMustMatchWhenTheRoleRequiresOne) {
  EXPECT_EQ(Code(Assume(kExternal)), "NoPermission");
  ApiResponse wrong = Assume(kExternal, {{"ExternalId", "ext-999"}});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Code(wrong), "NoPermission");
  EXPECT_EQ(Assume(kExternal, {{"ExternalId", "ext-123"}}).status, 200);
  // A role without external_id ignores one.
  EXPECT_EQ(Assume(kAdmin, {{"ExternalId", "anything"}}).status, 200);
}

TEST_F(StsTest, PolicyMustBeJson) {
  ApiResponse bad = Assume(kAdmin, {{"Policy", "{\"Version\": \"1\","}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Code(bad), "InvalidParameter.PolicyGrammar");
  EXPECT_EQ(Assume(kAdmin, {{"Policy", R"({"Version": "1", "Statement": [
      {"Effect": "Allow", "Action": "yundun-sas:Describe*",
       "Resource": "*"}]})"}})
                .status,
            200);
}

TEST_F(StsTest, AssumeRoleIsSigned) {
  ApiResponse unsigned_call =
      service_->Handle(UnsignedSts({{"Action", "AssumeRole"},
                                    {"Version", "2015-04-01"},
                                    {"RoleArn", kAdmin},
                                    {"RoleSessionName", "sim-session"}}));
  EXPECT_EQ(unsigned_call.status, 400);
  EXPECT_EQ(Code(unsigned_call), "IncompleteSignature");
  EXPECT_EQ(Code(Assume(kAdmin, {}, {kKeyId, "wrong-secret", "", {}})),
            "SignatureDoesNotMatch");
  ApiResponse unknown = Assume(kAdmin, {}, {"LTAIunknown", "s", "", {}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Code(unknown), "InvalidAccessKeyId.NotFound");
  ApiRequest once = AssumeRole(kAdmin, LongLivedKey(), clock_.Now(), "same");
  EXPECT_EQ(service_->Handle(once).status, 200);
  EXPECT_EQ(Code(service_->Handle(once)), "SignatureNonceUsed");
  ApiRequest stale = AssumeRole(kAdmin, LongLivedKey(),
                                clock_.Now() - std::chrono::minutes(16), "old");
  EXPECT_EQ(Code(service_->Handle(stale)), "InvalidTimeStamp.Expired");
  // STS errors point at the Sts product.
  EXPECT_THAT(json::parse(unknown.body)["Recommend"].get<std::string>(),
              HasSubstr("&product=Sts&"));
}

TEST_F(StsTest, WrongVersionIsAnUnknownApi) {
  aliyun::RpcCall call{
      "AssumeRole",
      "2018-12-03",
      {{"RoleArn", kAdmin}, {"RoleSessionName", "sim-session"}}};
  ApiResponse response = service_->Handle(
      testing::Signed(call, LongLivedKey(), clock_.Now(), "v"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Code(response), "InvalidApi.NotFound");
}

TEST_F(StsTest, IssuedCredentialsAssumeTheNextRoleOfAChain) {
  aliyun::Credentials admin = CredentialsOf(Assume(kAdmin));
  for (auto version :
       {aliyun::SignatureVersion::kV1, aliyun::SignatureVersion::kV3}) {
    ApiResponse reader = Assume(kReader, {}, admin, version);
    ASSERT_EQ(reader.status, 200) << reader.body;
    EXPECT_EQ(json::parse(reader.body)["AssumedRoleUser"]["Arn"],
              "acs:ram::1234567890123456:assumed-role/sas-reader/sim-session");
    // The reader may assume nothing: only the long-lived key is trusted by
    // admin, and the reader's credentials are the reader role.
    aliyun::Credentials next = CredentialsOf(reader);
    EXPECT_EQ(Code(Assume(kAdmin, {}, next, version)), "NoPermission");
    EXPECT_EQ(Code(Assume(kReader, {}, next, version)), "NoPermission");
  }
  // The admin role's credentials are not the key that admin trusts.
  EXPECT_EQ(Code(Assume(kAdmin, {}, admin)), "NoPermission");
  // Issued credentials need their token here too.
  aliyun::Credentials tokenless = admin;
  tokenless.security_token.clear();
  EXPECT_EQ(Code(Assume(kReader, {}, tokenless)), "MissingSecurityToken");
  EXPECT_EQ(Stats()["by_access_key"][admin.access_key_id], 4);
}

TEST_F(StsTest, ChainedCallFailsOnceTheSourceExpired) {
  Reset("[sts]\ncredential_lifetime = \"20s\"\n");
  aliyun::Credentials admin = CredentialsOf(Assume(kAdmin));
  clock_.Advance(std::chrono::seconds(20));
  ApiResponse response = Assume(kReader, {}, admin);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Code(response), "InvalidSecurityToken.Expired");
}

TEST_F(StsTest, AssumeRoleWithOidc) {
  ApiResponse response = Oidc();
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["AssumedRoleUser"]["Arn"],
            "acs:ram::1234567890123456:assumed-role/rrsa/rrsa-session");
  EXPECT_THAT(body["Credentials"]["AccessKeyId"].get<std::string>(),
              MatchesRegex("STS\\.[A-Za-z0-9]{24}"));
  EXPECT_EQ(Oidc({}, /*form=*/true).status, 200);
  EXPECT_EQ(Oidc({{"OIDCToken", "other-token"}}).status, 200);
  EXPECT_EQ(Stats()["sts"], json::parse(R"({"AssumeRole": 0,
      "AssumeRoleWithOIDC": 3})"));
  EXPECT_EQ(Stats()["by_access_key"], json::object());  // unsigned
}

TEST_F(StsTest, OidcRejections) {
  for (std::string name :
       {"RoleArn", "OIDCProviderArn", "OIDCToken", "RoleSessionName"}) {
    ApiResponse response = Oidc({{name, ""}});
    EXPECT_EQ(response.status, 400) << name;
    EXPECT_EQ(Code(response), "MissingParameter") << name;
    EXPECT_THAT(json::parse(response.body)["Message"].get<std::string>(),
                HasSubstr("\"" + name + "\""));
  }
  EXPECT_EQ(Code(Oidc({{"RoleArn", "rrsa"}})), "InvalidParameter.RoleArn");
  EXPECT_EQ(Code(Oidc({{"OIDCProviderArn", "ack-rrsa"}})),
            "InvalidParameter.OIDCProviderArn");
  EXPECT_EQ(Code(Oidc({{"OIDCProviderArn", kAdmin}})),
            "InvalidParameter.OIDCProviderArn");
  EXPECT_EQ(Code(Oidc({{"RoleSessionName", "x"}})),
            "InvalidParameter.RoleSessionName");
  EXPECT_EQ(Code(Oidc({{"Policy", "nope"}})), "InvalidParameter.PolicyGrammar");

  ApiResponse unknown_role =
      Oidc({{"RoleArn", "acs:ram::1234567890123456:role/nobody"}});
  EXPECT_EQ(unknown_role.status, 404);
  EXPECT_EQ(Code(unknown_role), "EntityNotExist.Role");
  ApiResponse other_provider = Oidc(
      {{"OIDCProviderArn", "acs:ram::1234567890123456:oidc-provider/other"}});
  EXPECT_EQ(other_provider.status, 403);
  EXPECT_EQ(Code(other_provider), "NoPermission");
  EXPECT_EQ(Code(Oidc({{"RoleArn", kAdmin}})), "NoPermission");  // no OIDC

  ApiResponse bad_token = Oidc({{"OIDCToken", "eyJforged.token.sig"}});
  EXPECT_EQ(bad_token.status, 400);
  EXPECT_EQ(Code(bad_token), "InvalidParameter.OIDCToken");
  EXPECT_THAT(bad_token.body, Not(HasSubstr("eyJforged")));
  // The token of one provider's role is not good for another token list.
  EXPECT_EQ(Code(Oidc({{"OIDCToken", std::string(kOidcToken) + "x"}})),
            "InvalidParameter.OIDCToken");

  ApiResponse no_version = Oidc({{"Version", ""}});
  EXPECT_EQ(no_version.status, 400);
  EXPECT_EQ(Code(no_version), "MissingParameter");
  EXPECT_EQ(Code(Oidc({{"Version", "2018-12-03"}})), "InvalidApi.NotFound");

  ApiRequest malformed = UnsignedSts({});
  malformed.target = "/?Action=AssumeRoleWithOIDC&Version=2015-04-01&x=%zz";
  // A malformed query names no action: it is a Security Center call.
  EXPECT_EQ(Code(service_->Handle(malformed)), "InvalidParameter");
  ApiRequest malformed_body = UnsignedSts(
      {{"Action", "AssumeRoleWithOIDC"}, {"Version", "2015-04-01"}});
  malformed_body.headers.emplace_back("content-type",
                                      "application/x-www-form-urlencoded");
  malformed_body.body = "RoleArn=%G0";
  ApiResponse response = service_->Handle(malformed_body);
  EXPECT_EQ(Code(response), "InvalidParameter");
  EXPECT_THAT(json::parse(response.body)["Recommend"].get<std::string>(),
              HasSubstr("&product=Sts&"));
}

TEST_F(StsTest, ErrorsNeverEchoTokens) {
  aliyun::Credentials admin = CredentialsOf(Assume(kAdmin));
  aliyun::Credentials wrong = admin;
  wrong.access_key_secret = "not-the-secret";
  ApiResponse response = Assume(kReader, {}, wrong);
  EXPECT_EQ(Code(response), "SignatureDoesNotMatch");
  std::string message = json::parse(response.body)["Message"];
  EXPECT_THAT(message, HasSubstr("SecurityToken%3D%252A%252A%252A"));
  EXPECT_THAT(message, Not(HasSubstr(aliyun::PercentEncode(
                           aliyun::PercentEncode(admin.security_token)))));
  EXPECT_THAT(message, Not(HasSubstr("CAIS")));
}

}  // namespace
}  // namespace sas::simulator
