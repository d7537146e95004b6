// Temporary credentials on the Security Center API, [[access]] rules, the
// failure switch, and the store behind them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "simulator/credential_store.h"
#include "simulator/service.h"
#include "support/fake_clock.h"
#include "test_requests.h"

namespace sas::simulator {
namespace {

using ::sas::testing::FakeClock;

using aliyun::SignatureVersion;
using nlohmann::json;
using testing::AssumeRole;
using ::testing::HasSubstr;
using testing::kKeyId;
using testing::kKeySecret;
using testing::LongLivedKey;
using ::testing::Not;

constexpr char kReader[] = "acs:ram::1234567890123456:role/sas-reader";
constexpr char kAuditor[] = "acs:ram::1234567890123456:role/auditor";
constexpr char kOtherKeyId[] = "LTAIotherkey";
constexpr char kOtherSecret[] = "other-secret";

constexpr char kScenario[] = R"(
[sts]
credential_lifetime = "20s"

[[role]]
arn = "acs:ram::1234567890123456:role/sas-reader"
trusted_principals = ["LTAIsimulatortest", "LTAIotherkey"]

[[role]]
arn = "acs:ram::1234567890123456:role/auditor"
trusted_principals = ["LTAIsimulatortest"]

[[access]]
principal = "acs:ram::1234567890123456:role/sas-reader"
rd_account_ids = [111, 333]

[[access]]
principal = "acs:ram::1234567890123456:role/auditor"
allow_sas = false

[[access]]
principal = "LTAIotherkey"
rd_account_ids = [222]

[[export]]
id = 1

[[export]]
id = 2
rd_account_id = 333
)";

class TemporaryCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    std::optional<Scenario> scenario =
        ParseScenario(kScenario, "temporary.toml", &error);
    ASSERT_TRUE(scenario.has_value()) << error;
    service_ = std::make_unique<Service>(
        std::move(*scenario),
        KeyPairs{{kKeyId, kKeySecret}, {kOtherKeyId, kOtherSecret}}, clock_,
        std::make_unique<SeededRandom>(3));
  }

  std::string Nonce() { return "tc-nonce-" + std::to_string(++nonce_); }

  aliyun::Credentials Assume(const std::string& role_arn) {
    ApiResponse response = service_->Handle(
        AssumeRole(role_arn, LongLivedKey(), clock_.Now(), Nonce()));
    EXPECT_EQ(response.status, 200) << response.body;
    json c = json::parse(response.body)["Credentials"];
    return {c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"],
            std::nullopt};
  }

  ApiResponse Describe(const aliyun::Credentials& credentials,
                       SignatureVersion version = SignatureVersion::kV3,
                       const std::string& export_id = "1",
                       const std::string& rd_account = "") {
    aliyun::RpcCall call{
        "DescribeExportInfo", "2018-12-03", {{"ExportId", export_id}}};
    if (!rd_account.empty()) {
      call.params.emplace_back("ResourceDirectoryAccountId", rd_account);
    }
    return service_->Handle(
        testing::Signed(call, credentials, clock_.Now(), Nonce(), version));
  }

  static std::string Code(const ApiResponse& response) {
    return json::parse(response.body).value("Code", "");
  }

  FakeClock clock_;
  int nonce_ = 0;
  std::unique_ptr<Service> service_;
};

constexpr SignatureVersion kVersions[] = {SignatureVersion::kV3,
                                          SignatureVersion::kV1};

TEST_F(TemporaryCredentialsTest, AcceptedOnDescribeExportInfo) {
  aliyun::Credentials reader = Assume(kReader);
  for (SignatureVersion version : kVersions) {
    ApiResponse response = Describe(reader, version);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.access_key_id, reader.access_key_id);
  }
  json stats = json::parse(service_->StatsJson());
  EXPECT_EQ(stats["by_access_key"][reader.access_key_id], 2);
}

TEST_F(TemporaryCredentialsTest, MissingToken) {
  aliyun::Credentials reader = Assume(kReader);
  reader.security_token.clear();
  for (SignatureVersion version : kVersions) {
    ApiResponse response = Describe(reader, version);
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(Code(response), "MissingSecurityToken");
    EXPECT_EQ(response.access_key_id, reader.access_key_id);
  }
}

TEST_F(TemporaryCredentialsTest, TokenOfOtherCredentialsIsAMismatch) {
  aliyun::Credentials reader = Assume(kReader);
  aliyun::Credentials other = Assume(kReader);
  reader.security_token = other.security_token;
  for (SignatureVersion version : kVersions) {
    ApiResponse response = Describe(reader, version);
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(Code(response), "InvalidSecurityToken.MismatchWithAccessKey");
    EXPECT_THAT(response.body, Not(HasSubstr(other.security_token)));
  }
}

TEST_F(TemporaryCredentialsTest, UnknownTokenIsMalformed) {
  aliyun::Credentials reader = Assume(kReader);
  std::string real_token = reader.security_token;
  for (std::string bad : {std::string("CAISnot-a-token"),
                          real_token.substr(0, real_token.size() - 1)}) {
    reader.security_token = bad;
    for (SignatureVersion version : kVersions) {
      ApiResponse response = Describe(reader, version);
      EXPECT_EQ(response.status, 400);
      EXPECT_EQ(Code(response), "InvalidSecurityToken.Malformed");
      EXPECT_THAT(response.body, Not(HasSubstr(bad)));
    }
  }
}

TEST_F(TemporaryCredentialsTest, ExpireOnTheInjectedClock) {
  aliyun::Credentials reader = Assume(kReader);
  clock_.Advance(std::chrono::seconds(19));
  EXPECT_EQ(Describe(reader, SignatureVersion::kV3).status, 200);
  EXPECT_EQ(Describe(reader, SignatureVersion::kV1).status, 200);
  clock_.Advance(std::chrono::seconds(1));  // exactly at Expiration
  for (SignatureVersion version : kVersions) {
    ApiResponse response = Describe(reader, version);
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(Code(response), "InvalidSecurityToken.Expired");
  }
  // Remembered for an hour past expiry, then forgotten (on the next issue).
  clock_.Advance(std::chrono::minutes(59) + std::chrono::seconds(59));
  Assume(kReader);
  EXPECT_EQ(Code(Describe(reader)), "InvalidSecurityToken.Expired");
  clock_.Advance(std::chrono::seconds(1));
  Assume(kReader);
  ApiResponse forgotten = Describe(reader);
  EXPECT_EQ(forgotten.status, 404);
  EXPECT_EQ(Code(forgotten), "InvalidAccessKeyId.NotFound");
}

TEST_F(TemporaryCredentialsTest, LongLivedKeyIgnoresAToken) {
  aliyun::Credentials key = LongLivedKey();
  key.security_token = "CAISunneeded";
  for (SignatureVersion version : kVersions) {
    EXPECT_EQ(Describe(key, version).status, 200);
  }
}

TEST_F(TemporaryCredentialsTest, UnknownTemporaryKeyIsNotFound) {
  aliyun::Credentials made_up{"STS.NotIssuedByTheSimulator", "secret",
                              "CAIStoken", std::nullopt};
  ApiResponse response = Describe(made_up);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Code(response), "InvalidAccessKeyId.NotFound");
  EXPECT_EQ(response.access_key_id, "");
}

TEST_F(TemporaryCredentialsTest, SignatureAndNonceStillChecked) {
  aliyun::Credentials reader = Assume(kReader);
  aliyun::Credentials wrong = reader;
  wrong.access_key_secret = "wrong";
  EXPECT_EQ(Code(Describe(wrong, SignatureVersion::kV3)),
            "SignatureDoesNotMatch");
  ApiResponse v1 = Describe(wrong, SignatureVersion::kV1);
  EXPECT_EQ(Code(v1), "SignatureDoesNotMatch");
  EXPECT_THAT(v1.body, Not(HasSubstr(aliyun::PercentEncode(
                           aliyun::PercentEncode(reader.security_token)))));
  ApiRequest once =
      testing::Signed({"DescribeExportInfo", "2018-12-03", {{"ExportId", "1"}}},
                      reader, clock_.Now(), "once", SignatureVersion::kV3);
  EXPECT_EQ(service_->Handle(once).status, 200);
  EXPECT_EQ(Code(service_->Handle(once)), "SignatureNonceUsed");
}

TEST_F(TemporaryCredentialsTest, AccessRestrictsMemberAccountsOfARole) {
  aliyun::Credentials reader = Assume(kReader);
  EXPECT_EQ(Describe(reader, SignatureVersion::kV3, "1").status, 200);
  EXPECT_EQ(Describe(reader, SignatureVersion::kV3, "1", "111").status, 200);
  ApiResponse other = Describe(reader, SignatureVersion::kV1, "1", "222");
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(Code(other), "RdCheckNoPermission");
  EXPECT_EQ(json::parse(other.body)["Message"],
            "Resource directory account verification has no permission.");
  // Checked before the export is looked up, and before its own account.
  EXPECT_EQ(Code(Describe(reader, SignatureVersion::kV3, "99", "222")),
            "RdCheckNoPermission");
  EXPECT_EQ(Describe(reader, SignatureVersion::kV3, "2", "333").status, 200);
  EXPECT_EQ(Code(Describe(reader, SignatureVersion::kV3, "2", "111")),
            "RdCheckNoPermission");
}

TEST_F(TemporaryCredentialsTest, AccessRestrictsALongLivedKey) {
  aliyun::Credentials other{kOtherKeyId, kOtherSecret, "", std::nullopt};
  EXPECT_EQ(Describe(other, SignatureVersion::kV3, "1", "222").status, 200);
  EXPECT_EQ(Code(Describe(other, SignatureVersion::kV3, "1", "111")),
            "RdCheckNoPermission");
  // The test key has no [[access]] entry: everything allowed.
  EXPECT_EQ(Describe(LongLivedKey(), SignatureVersion::kV3, "1", "999").status,
            200);
  // The other key's role credentials carry the role's rules, not the key's.
  ApiResponse assumed =
      service_->Handle(AssumeRole(kReader, other, clock_.Now(), Nonce()));
  json c = json::parse(assumed.body)["Credentials"];
  aliyun::Credentials reader{c["AccessKeyId"], c["AccessKeySecret"],
                             c["SecurityToken"], std::nullopt};
  EXPECT_EQ(Describe(reader, SignatureVersion::kV3, "1", "111").status, 200);
  EXPECT_EQ(Code(Describe(reader, SignatureVersion::kV3, "1", "222")),
            "RdCheckNoPermission");
}

TEST_F(TemporaryCredentialsTest, AccessCanDenySecurityCenter) {
  aliyun::Credentials auditor = Assume(kAuditor);
  for (SignatureVersion version : kVersions) {
    ApiResponse response = Describe(auditor, version);
    EXPECT_EQ(response.status, 403);
    EXPECT_EQ(Code(response), "NoPermission");
    EXPECT_EQ(json::parse(response.body)["Message"],
              "You are not authorized to do this action. You should be "
              "authorized by RAM.");
  }
  // Even for a bad ExportId: permission comes first.
  EXPECT_EQ(Code(Describe(auditor, SignatureVersion::kV3, "x")),
            "NoPermission");
}

// ---- The failure switch ----

ApiRequest FailSwitch(const std::string& query) {
  ApiRequest request;
  request.method = "GET";
  request.target = "/_simulator/fail?" + query;
  return request;
}

TEST_F(TemporaryCredentialsTest, FailSwitchFailsTheNextStsCalls) {
  ApiResponse set =
      service_->HandleFailSwitch(FailSwitch("service=sts&count=2"));
  EXPECT_EQ(set.status, 200);
  EXPECT_EQ(json::parse(set.body),
            json::parse(R"({"service": "sts", "count": 2})"));
  for (int i = 0; i < 2; ++i) {
    ApiResponse response = service_->Handle(
        AssumeRole(kReader, LongLivedKey(), clock_.Now(), Nonce()));
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(Code(response), "ServiceUnavailable");
  }
  Assume(kReader);  // recovered
  // Security Center is not affected.
  service_->HandleFailSwitch(FailSwitch("service=sts&count=5"));
  EXPECT_EQ(Describe(LongLivedKey()).status, 200);
  // count=0 clears.
  service_->HandleFailSwitch(FailSwitch("service=sts&count=0"));
  Assume(kReader);
  json stats = json::parse(service_->StatsJson());
  EXPECT_EQ(stats["by_code"]["ServiceUnavailable"], 2);
  EXPECT_EQ(stats["sts"]["AssumeRole"], 4);
  EXPECT_EQ(stats["requests"], 5);  // the switch itself is not counted
}

TEST_F(TemporaryCredentialsTest, FailSwitchRejectsBadParameters) {
  for (std::string query :
       {"", "service=ecs&count=1", "service=sts", "service=sts&count=-1",
        "service=sts&count=x", "service=sts&count=1000001",
        "service=metadata&count=1%zz"}) {
    ApiResponse response = service_->HandleFailSwitch(FailSwitch(query));
    EXPECT_EQ(response.status, 400) << query;
    EXPECT_EQ(response.Header("content-type"), "text/plain") << query;
  }
  EXPECT_EQ(
      service_->HandleFailSwitch(FailSwitch("service=metadata&count=1000000"))
          .status,
      200);
}

// ---- The store ----

TEST(CredentialStore, IssuesUniqueCredentialsForWholeSeconds) {
  FakeClock clock(WallTime(std::chrono::milliseconds(1'700'000'000'750)));
  SeededRandom random(1);
  CredentialStore store(clock, random);
  IssuedCredentials a = store.Issue("role-a", std::chrono::seconds(30));
  IssuedCredentials b = store.Issue("role-b", std::chrono::seconds(30));
  EXPECT_NE(a.access_key_id, b.access_key_id);
  EXPECT_NE(a.access_key_secret, b.access_key_secret);
  EXPECT_NE(a.security_token, b.security_token);
  EXPECT_EQ(a.issued, WallTime(std::chrono::seconds(1'700'000'000)));
  EXPECT_EQ(a.expiration, WallTime(std::chrono::seconds(1'700'000'030)));
  EXPECT_EQ(store.Find(a.access_key_id)->role_arn, "role-a");
  EXPECT_FALSE(store.Find("STS.unknown").has_value());
  EXPECT_EQ(store.size(), 2u);
}

TEST(CredentialStore, CheckTokenOrder) {
  FakeClock clock;
  SeededRandom random(1);
  CredentialStore store(clock, random);
  IssuedCredentials a = store.Issue("r", std::chrono::seconds(10));
  IssuedCredentials b = store.Issue("r", std::chrono::seconds(10));
  ApiError error;
  EXPECT_TRUE(store.CheckToken(a, &a.security_token, &error));
  EXPECT_FALSE(store.CheckToken(a, nullptr, &error));
  EXPECT_EQ(error.code, "MissingSecurityToken");
  std::string empty;
  EXPECT_FALSE(store.CheckToken(a, &empty, &error));
  EXPECT_EQ(error.code, "MissingSecurityToken");
  std::string junk = "junk";
  EXPECT_FALSE(store.CheckToken(a, &junk, &error));
  EXPECT_EQ(error.code, "InvalidSecurityToken.Malformed");
  EXPECT_FALSE(store.CheckToken(a, &b.security_token, &error));
  EXPECT_EQ(error.code, "InvalidSecurityToken.MismatchWithAccessKey");
  clock.Advance(std::chrono::seconds(10));
  EXPECT_FALSE(store.CheckToken(a, &a.security_token, &error));
  EXPECT_EQ(error.code, "InvalidSecurityToken.Expired");
  // Another key's token wins over expiry: mismatch is checked first.
  EXPECT_FALSE(store.CheckToken(a, &b.security_token, &error));
  EXPECT_EQ(error.code, "InvalidSecurityToken.MismatchWithAccessKey");
}

TEST(CredentialStore, BoundedByCapacityAndRetention) {
  FakeClock clock;
  SeededRandom random(1);
  CredentialStore store(clock, random, /*capacity=*/3);
  IssuedCredentials long_lived = store.Issue("r", std::chrono::hours(5));
  IssuedCredentials short_lived = store.Issue("r", std::chrono::seconds(10));
  IssuedCredentials middle = store.Issue("r", std::chrono::hours(2));
  IssuedCredentials newest = store.Issue("r", std::chrono::hours(3));
  // Full: the earliest to expire was forgotten.
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Find(short_lived.access_key_id).has_value());
  EXPECT_TRUE(store.Find(long_lived.access_key_id).has_value());
  // 2 h + 1 h after issue, `middle` expired an hour ago: gone on next issue.
  clock.Advance(std::chrono::hours(3));
  store.Issue("r", std::chrono::hours(10));
  EXPECT_FALSE(store.Find(middle.access_key_id).has_value());
  EXPECT_TRUE(store.Find(newest.access_key_id).has_value());
  EXPECT_TRUE(store.Find(long_lived.access_key_id).has_value());
}

}  // namespace
}  // namespace sas::simulator
