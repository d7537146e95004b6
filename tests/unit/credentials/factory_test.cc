#include "credentials/factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/counting_nonce_source.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"
#include "support/map_environment.h"
#include "support/memory_file_system.h"

namespace sas::credentials {
namespace {

using ::sas::testing::CountingNonceSource;
using ::sas::testing::FakeClock;
using ::sas::testing::MapEnvironment;
using ::sas::testing::MemoryFileSystem;

using aliyun::CredentialsResult;
using ::testing::HasSubstr;
using ::testing::Not;

// Forwards to one shared FakeTransport, so a test sees every fetcher's
// requests.
class SharedTransport : public aliyun::HttpTransport {
 public:
  explicit SharedTransport(sas::testing::FakeTransport& target)
      : target_(target) {}
  aliyun::TransportResult Send(const aliyun::HttpRequest& request) override {
    return target_.Send(request);
  }
  void CancelAll() override {}

 private:
  sas::testing::FakeTransport& target_;
};

AccountCredentials Account(const std::string& name,
                           config::CredentialsConfig credentials) {
  AccountCredentials account;
  account.name = name;
  account.region = "cn-hangzhou";
  account.credentials = std::move(credentials);
  return account;
}

class FactoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<ProviderSet> Build(std::string* error) {
    ProviderDeps deps{clock_, nonces_, env_, files_};
    deps.make_transport = [this](Millis, Millis) {
      return std::make_unique<SharedTransport>(transport_);
    };
    return ProviderSet::Build(accounts_, deps, error);
  }

  FakeClock clock_;
  CountingNonceSource nonces_;
  MapEnvironment env_{{{"HOME", "/home/u"}}};
  MemoryFileSystem files_;
  sas::testing::FakeTransport transport_;
  std::vector<AccountCredentials> accounts_;
};

TEST_F(FactoryTest, DefaultChainTakesTheEnvironmentFirst) {
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "envsecret");
  accounts_.push_back(Account("a", {}));
  std::string error;
  auto set = Build(&error);
  ASSERT_TRUE(set) << error;
  RefreshingProvider* provider = set->For("a");
  provider->RefreshIfDue();
  CredentialsResult result = provider->Get();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "LTAIenv");
  EXPECT_EQ(provider->Type(), "access_key");
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(FactoryTest, DefaultChainSaysWhatEachSourceSaid) {
  env_.Set("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
  accounts_.push_back(Account("a", {}));
  std::string error;
  auto set = Build(&error);
  ASSERT_TRUE(set) << error;
  set->For("a")->RefreshIfDue();
  CredentialsResult result = set->For("a")->Get();
  EXPECT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "NoCredentials");
  EXPECT_THAT(result.error_message,
              HasSubstr("access_key: ALIBABA_CLOUD_ACCESS_KEY_ID"));
  EXPECT_THAT(result.error_message,
              HasSubstr("/home/u/.aliyun/config.json does not exist"));
  EXPECT_THAT(result.error_message,
              HasSubstr("/home/u/.alibabacloud/credentials does not exist"));
  EXPECT_THAT(result.error_message,
              HasSubstr("ALIBABA_CLOUD_ECS_METADATA_DISABLED"));
  EXPECT_THAT(result.error_message, HasSubstr("ALIBABA_CLOUD_CREDENTIALS_URI"));
}

TEST_F(FactoryTest, DefaultChainReadsTheCliProfileNamedByTheEnvironment) {
  files_.Add("/home/u/.aliyun/config.json", R"({"current": "a", "profiles": [
    {"name": "a", "mode": "AK", "access_key_id": "LTAIa", "access_key_secret": "sa"},
    {"name": "b", "mode": "AK", "access_key_id": "LTAIb", "access_key_secret": "sb"}]})");
  env_.Set("ALIBABA_CLOUD_PROFILE", "b");
  accounts_.push_back(Account("x", {}));
  std::string error;
  auto set = Build(&error);
  ASSERT_TRUE(set) << error;
  set->For("x")->RefreshIfDue();
  ASSERT_TRUE(set->For("x")->Get().credentials);
  EXPECT_EQ(set->For("x")->Get().credentials->access_key_id, "LTAIb");
  EXPECT_EQ(set->For("x")->Type(), "cli_profile");
}

TEST_F(FactoryTest, ExplicitCliProfileErrorsNameTheFile) {
  config::CliProfileCredentials credentials;
  credentials.file = "/etc/cli.json";
  accounts_.push_back(Account("x", credentials));
  std::string error;
  EXPECT_FALSE(Build(&error));
  EXPECT_THAT(error, HasSubstr("account x: /etc/cli.json: cannot read"));

  files_.Add("/etc/cli.json", R"({"current": "a", "profiles": [
    {"name": "a", "mode": "Magic", "access_key_id": "LTAIa"}]})");
  EXPECT_FALSE(Build(&error));
  EXPECT_THAT(error, HasSubstr("/etc/cli.json:"));
  EXPECT_THAT(error, HasSubstr("mode \"Magic\" is not supported"));

  std::get<config::CliProfileCredentials>(accounts_[0].credentials).profile =
      "missing";
  EXPECT_FALSE(Build(&error));
  EXPECT_THAT(error, HasSubstr("no profile named \"missing\""));
}

TEST_F(FactoryTest, CliRoleProfileSessionLongerThanStsAllowsIsRefused) {
  config::CliProfileCredentials credentials;
  credentials.file = "/etc/cli.json";
  accounts_.push_back(Account("x", credentials));
  files_.Add("/etc/cli.json", R"({"current": "r", "profiles": [
    {"name": "r", "mode": "RamRoleArn", "access_key_id": "LTAIa",
     "access_key_secret": "sa", "ram_role_arn": "acs:ram::1:role/r",
     "expired_seconds": 9223372036854775807}]})");
  std::string error;
  EXPECT_FALSE(Build(&error));
  EXPECT_THAT(error, HasSubstr("/etc/cli.json:2: profile \"r\": field "
                               "\"expired_seconds\": must be at most 43200 "
                               "(12h, the longest STS role session), got "
                               "9223372036854775807"));
  EXPECT_THAT(error, Not(HasSubstr("sa\"")));
}

TEST_F(FactoryTest, CredentialsFileSectionByType) {
  files_.Add("/home/u/.alibabacloud/credentials",
             "[default]\ntype = access_key\naccess_key_id = LTAIini\n"
             "access_key_secret = sini\n\n[weird]\ntype = magic\n");
  config::CredentialsFileCredentials credentials;
  accounts_.push_back(Account("x", credentials));
  std::string error;
  auto set = Build(&error);
  ASSERT_TRUE(set) << error;
  set->For("x")->RefreshIfDue();
  EXPECT_EQ(set->For("x")->Get().credentials->access_key_id, "LTAIini");

  std::get<config::CredentialsFileCredentials>(accounts_[0].credentials)
      .profile = "weird";
  EXPECT_FALSE(Build(&error));
  EXPECT_THAT(error, HasSubstr("/home/u/.alibabacloud/credentials:6: [weird]"));
  EXPECT_THAT(error, Not(HasSubstr("sini")));
}

TEST_F(FactoryTest, RoleFromAnotherAccountUsesItsCredentials) {
  config::AccessKeyCredentials admin;
  admin.keys = {"LTAIadmin", "adminsecret", "", std::nullopt};
  config::RamRoleArnCredentials member;
  member.role_arn = "acs:ram::1234567890123456:role/reader";
  member.source_account = "admin";
  // The member is listed first: its source is built on demand.
  accounts_.push_back(Account("member", member));
  accounts_[0].endpoints.sts = aliyun::Endpoint{"http", "127.0.0.1", 9};
  accounts_.push_back(Account("admin", admin));
  transport_.PushResponse(200, R"({"RequestId":"r","Credentials":{
      "AccessKeyId":"STS.k","AccessKeySecret":"s","SecurityToken":"t",
      "Expiration":"2099-01-01T00:00:00Z"}})");
  std::string error;
  auto set = Build(&error);
  ASSERT_TRUE(set) << error;
  set->For("admin")->RefreshIfDue();
  set->For("member")->RefreshIfDue();
  CredentialsResult result = set->For("member")->Get();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.k");
  ASSERT_EQ(transport_.requests().size(), 1u);
  const aliyun::HttpRequest request = transport_.requests()[0];
  EXPECT_EQ(request.endpoint.host, "127.0.0.1");
  EXPECT_THAT(request.target, HasSubstr("AccessKeyId=LTAIadmin"));
  EXPECT_THAT(request.target, HasSubstr("Action=AssumeRole"));
}

TEST_F(FactoryTest, StsEndpointFollowsRegionNetworkAndEnvironment) {
  config::RamRoleArnCredentials member;
  member.role_arn = "acs:ram::1234567890123456:role/reader";
  member.source_keys = aliyun::Credentials{"LTAI", "s", "", std::nullopt};
  accounts_.push_back(Account("m", member));
  accounts_[0].network = config::Network::kVpc;
  transport_.PushError(aliyun::TransportError::kConnection);
  std::string error;
  auto set = Build(&error);
  ASSERT_TRUE(set) << error;
  set->For("m")->RefreshIfDue();
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(transport_.requests()[0].endpoint.host,
            "sts-vpc.cn-hangzhou.aliyuncs.com");

  env_.Set("ALIBABA_CLOUD_STS_REGION", "ap-southeast-1");
  accounts_[0].network = config::Network::kPublic;
  transport_.PushError(aliyun::TransportError::kConnection);
  set = Build(&error);
  ASSERT_TRUE(set) << error;
  set->For("m")->RefreshIfDue();
  ASSERT_EQ(transport_.requests().size(), 2u);
  EXPECT_EQ(transport_.requests()[1].endpoint.host,
            "sts.ap-southeast-1.aliyuncs.com");
}

}  // namespace
}  // namespace sas::credentials
