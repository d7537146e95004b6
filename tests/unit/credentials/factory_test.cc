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

// Answers Run from a queue and records what it was asked to run.
class FakeProcessRunner : public ProcessRunner {
 public:
  ProcessResult Run(const std::vector<std::string>& argv, Millis,
                    size_t) override {
    runs.push_back(argv);
    if (results.empty()) return ProcessResult{};
    ProcessResult result = results.front();
    results.erase(results.begin());
    return result;
  }
  void CancelAll() override { cancelled = true; }

  std::vector<ProcessResult> results;
  std::vector<std::vector<std::string>> runs;
  bool cancelled = false;
};

ProcessResult Exited(int code, std::string out, std::string err = "") {
  ProcessResult result;
  result.end = ProcessResult::End::kExited;
  result.exit_code = code;
  result.stdout_text = std::move(out);
  result.stderr_text = std::move(err);
  return result;
}

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
    deps.processes = &processes_;
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
  FakeProcessRunner processes_;
  std::vector<AccountCredentials> accounts_;

  // One account of type cli_profile reading /etc/cli.json's `current`.
  void UseCliFile(const std::string& json) {
    files_.Add("/etc/cli.json", json);
    config::CliProfileCredentials credentials;
    credentials.file = "/etc/cli.json";
    accounts_.clear();
    accounts_.push_back(Account("x", credentials));
  }

  // Builds, lets account x fetch once, and returns its result.
  CredentialsResult FetchX() {
    std::string error;
    set_ = Build(&error);
    EXPECT_TRUE(set_) << error;
    if (!set_) return {std::nullopt, "BuildFailed", error};
    set_->For("x")->RefreshIfDue();
    return set_->For("x")->Get();
  }

  // The last request sent, or an empty one.
  aliyun::HttpRequest LastRequest() const {
    auto requests = transport_.requests();
    return requests.empty() ? aliyun::HttpRequest{} : requests.back();
  }

  std::unique_ptr<ProviderSet> set_;
};

constexpr char kStsAnswer[] = R"({"Credentials": {"AccessKeyId": "STS.id",
  "AccessKeySecret": "stssecret", "SecurityToken": "tok",
  "Expiration": "2030-01-01T00:00:00Z"}})";

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

TEST_F(FactoryTest, StsEndpointIsCentralUnlessAnStsRegionIsGiven) {
  config::RamRoleArnCredentials member;
  member.role_arn = "acs:ram::1234567890123456:role/reader";
  member.source_keys = aliyun::Credentials{"LTAI", "s", "", std::nullopt};
  accounts_.push_back(Account("m", member));
  // Neither the account's region nor network = "vpc" chooses STS's host.
  accounts_[0].network = config::Network::kVpc;
  auto host = [this] {
    transport_.PushError(aliyun::TransportError::kConnection);
    std::string error;
    auto set = Build(&error);
    EXPECT_TRUE(set) << error;
    if (!set) return std::string();
    size_t before = transport_.requests().size();
    set->For("m")->RefreshIfDue();
    EXPECT_EQ(transport_.requests().size(), before + 1);
    return transport_.requests().back().endpoint.host;
  };
  EXPECT_EQ(host(), "sts.aliyuncs.com");
  // VPC without a region is still the central host.
  env_.Set("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "TRUE");
  EXPECT_EQ(host(), "sts.aliyuncs.com");
  env_.Set("ALIBABA_CLOUD_STS_REGION", "ap-southeast-1");
  EXPECT_EQ(host(), "sts-vpc.ap-southeast-1.aliyuncs.com");
  env_.Set("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "false");
  EXPECT_EQ(host(), "sts.ap-southeast-1.aliyuncs.com");
  // The account's sts_region wins over the environment.
  accounts_[0].endpoints.sts_region = "cn-beijing";
  EXPECT_EQ(host(), "sts.cn-beijing.aliyuncs.com");
  // sts_endpoint wins over everything.
  accounts_[0].endpoints.sts = aliyun::Endpoint{"http", "127.0.0.1", 9};
  EXPECT_EQ(host(), "127.0.0.1");
}

// ---- Credentials as the official libraries resolve them --------------------

TEST_F(FactoryTest, CliRoleProfilesUseStsRegionVpcPolicyAndExternalId) {
  UseCliFile(R"({"current": "r", "profiles": [
    {"name": "r", "mode": "RamRoleArn", "access_key_id": "LTAIa",
     "access_key_secret": "sa", "ram_role_arn": "acs:ram::1:role/r",
     "sts_region": "cn-shanghai", "enable_vpc": true,
     "external_id": "ext-1", "policy": "{\"Version\":\"1\"}"}]})");
  transport_.PushResponse(200, kStsAnswer);
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  aliyun::HttpRequest request = LastRequest();
  EXPECT_EQ(request.endpoint.host, "sts-vpc.cn-shanghai.aliyuncs.com");
  EXPECT_THAT(request.target, HasSubstr("ExternalId=ext-1"));
  EXPECT_THAT(request.target,
              HasSubstr("Policy=%7B%22Version%22%3A%221%22%7D"));
}

TEST_F(FactoryTest, CliOidcAndChainableProfilesUseTheirStsFields) {
  files_.Add("/var/run/token", "oidc-token\n");
  UseCliFile(R"({"current": "o", "profiles": [
    {"name": "o", "mode": "oidc", "ram_role_arn": "acs:ram::1:role/o",
     "oidc_provider_arn": "acs:ram::1:oidc-provider/p",
     "oidc_token_file": "/var/run/token", "sts_region": "cn-beijing",
     "policy": "{}"},
    {"name": "c", "mode": "chainableramrolearn", "source_profile": "k",
     "ram_role_arn": "acs:ram::1:role/c", "sts_region": "eu-central-1",
     "external_id": "ext-c"},
    {"name": "k", "mode": "ak", "access_key_id": "LTAIk",
     "access_key_secret": "sk"}]})");
  transport_.PushResponse(200, kStsAnswer);
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(LastRequest().endpoint.host, "sts.cn-beijing.aliyuncs.com");
  EXPECT_THAT(LastRequest().target, HasSubstr("Action=AssumeRoleWithOIDC"));
  EXPECT_THAT(LastRequest().target, HasSubstr("Policy=%7B%7D"));

  std::get<config::CliProfileCredentials>(accounts_[0].credentials).profile =
      "c";
  transport_.PushResponse(200, kStsAnswer);
  result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(LastRequest().endpoint.host, "sts.eu-central-1.aliyuncs.com");
  EXPECT_THAT(LastRequest().target, HasSubstr("ExternalId=ext-c"));
  EXPECT_THAT(LastRequest().target, HasSubstr("AccessKeyId=LTAIk"));
}

TEST_F(FactoryTest, CliModesMatchInAnyCase) {
  for (const char* mode : {"AK", "ak", "Ak", "aK"}) {
    UseCliFile(std::string(R"({"current": "a", "profiles": [{"name": "a",
      "mode": ")") +
               mode +
               R"(", "access_key_id": "LTAIa", "access_key_secret": "sa"}]})");
    CredentialsResult result = FetchX();
    ASSERT_TRUE(result.credentials) << mode << ": " << result.error_message;
    EXPECT_EQ(result.credentials->access_key_id, "LTAIa");
  }
  UseCliFile(R"({"current": "s", "profiles": [{"name": "s",
    "mode": "STSTOKEN", "access_key_id": "STS.a", "access_key_secret": "sa",
    "sts_token": "tok"}]})");
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->security_token, "tok");
}

TEST_F(FactoryTest, CliExternalRunsTheCommandWithoutAShell) {
  UseCliFile(R"({"current": "e", "profiles": [{"name": "e",
    "mode": "External",
    "process_command": "/usr/bin/get-creds --role 'sas reader' \"x y\""}]})");
  processes_.results.push_back(
      Exited(0, R"({"mode": "StsToken", "access_key_id": "STS.ext",
            "access_key_secret": "extsecret", "sts_token": "exttoken",
            "expiration": "2030-01-01T00:00:00Z"})"));
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.ext");
  EXPECT_EQ(result.credentials->security_token, "exttoken");
  ASSERT_TRUE(result.credentials->expiration);
  ASSERT_EQ(processes_.runs.size(), 1u);
  EXPECT_EQ(processes_.runs[0],
            (std::vector<std::string>{"/usr/bin/get-creds", "--role",
                                      "sas reader", "x y"}));
  EXPECT_EQ(set_->For("x")->Type(), "cli_profile");
  set_->CancelAll();
  EXPECT_TRUE(processes_.cancelled);
}

TEST_F(FactoryTest, CliExternalFailuresQuoteStderrNeverStdout) {
  UseCliFile(R"({"current": "e", "profiles": [{"name": "e",
    "mode": "External", "process_command": "get-creds --secret-arg hunter2"}]})");
  processes_.results.push_back(
      Exited(3, R"({"access_key_secret": "leaked"})", "no session\n"));
  CredentialsResult result = FetchX();
  ASSERT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "ExternalProcessFailed");
  EXPECT_THAT(result.error_message,
              HasSubstr("External process_command \"get-creds\" exited with "
                        "status 3; stderr: no session"));
  EXPECT_THAT(result.error_message, Not(HasSubstr("leaked")));
  EXPECT_THAT(result.error_message, Not(HasSubstr("hunter2")));

  processes_.results.push_back(
      Exited(0,
             R"({"mode": "AK", "access_key_id": "LTAI", "access_key_secret":)"
             R"( "leaked")",
             "warn"));
  result = FetchX();
  ASSERT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "InvalidCredentials");
  EXPECT_THAT(result.error_message, HasSubstr("is not JSON"));
  EXPECT_THAT(result.error_message, Not(HasSubstr("leaked")));

  ProcessResult timed_out;
  timed_out.end = ProcessResult::End::kTimedOut;
  processes_.results.push_back(timed_out);
  result = FetchX();
  EXPECT_THAT(result.error_message, HasSubstr("did not finish within 60 s"));

  UseCliFile(R"({"current": "e", "profiles": [{"name": "e",
    "mode": "External", "process_command": "get-creds 'unterminated"}]})");
  std::string error;
  EXPECT_FALSE(Build(&error));
  EXPECT_THAT(error, HasSubstr("field \"process_command\": unterminated ' "
                               "quote"));
}

TEST_F(FactoryTest, CliCredentialsUriModeAndTheDisablingVariable) {
  UseCliFile(R"({"current": "u", "profiles": [{"name": "u",
    "mode": "CredentialsURI",
    "credentials_uri": "http://127.0.0.1:7000/creds"}]})");
  transport_.PushResponse(200, R"({"Code": "Success", "AccessKeyId": "STS.u",
    "AccessKeySecret": "us", "SecurityToken": "ut",
    "Expiration": "2030-01-01T00:00:00Z"})");
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.u");
  EXPECT_EQ(LastRequest().endpoint.port, 7000);
  EXPECT_EQ(LastRequest().target, "/creds");

  for (const char* value : {"1", "TRUE"}) {
    env_.Set("ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS", value);
    std::string error;
    EXPECT_FALSE(Build(&error));
    EXPECT_THAT(error, HasSubstr("mode CredentialsURI is disabled by "
                                 "ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS"));
  }
}

TEST_F(FactoryTest, CliCloudSsoAndOAuthAreRefusedByName) {
  for (const char* mode : {"CloudSSO", "oauth"}) {
    UseCliFile(std::string(R"({"current": "s", "profiles": [{"name": "s",
      "mode": ")") +
               mode + R"(", "access_token": "secret-sso"}]})");
    std::string error;
    EXPECT_FALSE(Build(&error)) << mode;
    EXPECT_THAT(error, HasSubstr("is not supported: it needs an interactive "
                                 "sign-in"));
    EXPECT_THAT(error, HasSubstr("mode External"));
    EXPECT_THAT(error, Not(HasSubstr("secret-sso")));
  }
}

TEST_F(FactoryTest, CliProfileDisabledLeavesTheDefaultChain) {
  files_.Add("/home/u/.aliyun/config.json", R"({"current": "a", "profiles": [
    {"name": "a", "mode": "AK", "access_key_id": "LTAIcli", "access_key_secret": "s"}]})");
  files_.Add("/home/u/.alibabacloud/credentials",
             "[default]\ntype = access_key\naccess_key_id = LTAIini\n"
             "access_key_secret = sini\n");
  accounts_.push_back(Account("x", {}));
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials);
  EXPECT_EQ(result.credentials->access_key_id, "LTAIcli");

  env_.Set("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "True");
  result = FetchX();
  ASSERT_TRUE(result.credentials);
  EXPECT_EQ(result.credentials->access_key_id, "LTAIini");
}

TEST_F(FactoryTest, EcsEnvironmentAppliesToEveryEcsRamRoleSource) {
  env_.Set("ALIBABA_CLOUD_ECS_METADATA", "env-role");
  env_.Set("ALIBABA_CLOUD_IMDSV1_DISABLED", "true");
  files_.Add("/home/u/.alibabacloud/credentials",
             "[default]\ntype = ecs_ram_role\n");
  std::vector<config::CredentialsConfig> sources = {
      config::EcsRamRoleCredentials{}, config::CredentialsFileCredentials{}};
  UseCliFile(R"({"current": "e", "profiles": [{"name": "e",
    "mode": "EcsRamRole"}]})");
  sources.push_back(accounts_[0].credentials);
  for (const config::CredentialsConfig& source : sources) {
    accounts_.clear();
    accounts_.push_back(Account("x", source));
    // The token PUT fails: with IMDSv1 disabled nothing else is asked.
    transport_.PushResponse(403, "");
    size_t before = transport_.requests().size();
    CredentialsResult result = FetchX();
    ASSERT_FALSE(result.credentials);
    EXPECT_EQ(result.error_code, "MetadataTokenUnavailable")
        << config::CredentialsTypeName(source);
    EXPECT_EQ(transport_.requests().size(), before + 1);

    // With a token, the role is the environment's: no discovery.
    transport_.PushResponse(200, "v2token");
    transport_.PushResponse(200, R"({"Code": "Success",
      "AccessKeyId": "STS.e", "AccessKeySecret": "es", "SecurityToken": "et",
      "Expiration": "2030-01-01T00:00:00Z"})");
    result = FetchX();
    ASSERT_TRUE(result.credentials) << result.error_message;
    EXPECT_EQ(LastRequest().target,
              "/latest/meta-data/ram/security-credentials/env-role");
  }
  // A role named in the configuration wins over the environment.
  config::EcsRamRoleCredentials named;
  named.role_name = "configured";
  accounts_.clear();
  accounts_.push_back(Account("x", named));
  transport_.PushResponse(200, "v2token");
  transport_.PushError(aliyun::TransportError::kConnection);
  FetchX();
  EXPECT_EQ(LastRequest().target,
            "/latest/meta-data/ram/security-credentials/configured");
}

TEST_F(FactoryTest, IniOidcRoleArnReadsOidcTokenFilePath) {
  files_.Add("/var/run/token", "oidc-token\n");
  files_.Add("/home/u/.alibabacloud/credentials",
             "[default]\ntype = oidc_role_arn\n"
             "role_arn = acs:ram::1:role/o\n"
             "oidc_provider_arn = acs:ram::1:oidc-provider/p\n"
             "oidc_token_file_path = /var/run/token\n"
             "role_session_name = ini-session\n"
             "policy = {}\n");
  accounts_.push_back(Account("x", config::CredentialsFileCredentials{}));
  transport_.PushResponse(200, kStsAnswer);
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  aliyun::HttpRequest request = LastRequest();
  EXPECT_EQ(request.endpoint.host, "sts.aliyuncs.com");
  EXPECT_THAT(request.target, HasSubstr("OIDCToken=oidc-token"));
  EXPECT_THAT(request.target, HasSubstr("RoleSessionName=ini-session"));
  EXPECT_THAT(request.target, HasSubstr("Policy=%7B%7D"));
}

TEST_F(FactoryTest, IniOidcRoleArnFallsBackToTheEnvironment) {
  files_.Add("/var/run/env-token", "env-token\n");
  env_.Set("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/env");
  env_.Set("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1:oidc-provider/env");
  env_.Set("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/env-token");
  files_.Add("/home/u/.alibabacloud/credentials",
             "[default]\ntype = oidc_role_arn\n");
  accounts_.push_back(Account("x", config::CredentialsFileCredentials{}));
  transport_.PushResponse(200, kStsAnswer);
  CredentialsResult result = FetchX();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_THAT(LastRequest().target, HasSubstr("OIDCToken=env-token"));
  EXPECT_THAT(LastRequest().target,
              HasSubstr("RoleArn=acs%3Aram%3A%3A1%3Arole%2Fenv"));
}

TEST_F(FactoryTest, IniOidcRoleArnRefusesTheOldTokenFileKey) {
  files_.Add("/home/u/.alibabacloud/credentials",
             "[default]\ntype = oidc_role_arn\n"
             "role_arn = acs:ram::1:role/o\n"
             "oidc_provider_arn = acs:ram::1:oidc-provider/p\n"
             "oidc_token_file = /var/run/token\n");
  accounts_.push_back(Account("x", config::CredentialsFileCredentials{}));
  std::string error;
  EXPECT_FALSE(Build(&error));
  EXPECT_THAT(error,
              HasSubstr("/home/u/.alibabacloud/credentials:5: [default]: "
                        "the OIDC token file's key is "
                        "oidc_token_file_path"));
}

}  // namespace
}  // namespace sas::credentials
