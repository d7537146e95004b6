// Every credential type end to end: the exporter and the simulator's STS,
// metadata service and Security Center, as real processes on loopback.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support/harness.h"

namespace sas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kAdminRole = "acs:ram::1234567890123456:role/admin";
constexpr const char* kReaderRole = "acs:ram::1234567890123456:role/sas-reader";
constexpr const char* kOidcProvider =
    "acs:ram::1234567890123456:oidc-provider/ack-rrsa";
constexpr const char* kOidcToken = "eyJhbGciOiJSUzI1NiJ9.sim-oidc-token.sig";

// Roles: the admin key may assume "admin"; "admin" may assume "sas-reader";
// the OIDC provider may assume "sas-reader"; the instance role is
// "sas-reader". "admin" reads member 111, "sas-reader" member 222.
std::string Scenario(const std::string& sts_lifetime = "1h") {
  return std::string(R"(
[sts]
credential_lifetime = ")") +
         sts_lifetime + R"("

[[role]]
arn = "acs:ram::1234567890123456:role/admin"
trusted_principals = ["ADMINKEY"]

[[role]]
arn = "acs:ram::1234567890123456:role/sas-reader"
trusted_principals = ["acs:ram::1234567890123456:role/admin"]
oidc_provider_arn = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
oidc_tokens = ["eyJhbGciOiJSUzI1NiJ9.sim-oidc-token.sig"]

[metadata]
role_name = "EcsSasReader"
role_arn = "acs:ram::1234567890123456:role/sas-reader"
credential_lifetime = ")" +
         sts_lifetime + R"("

[[access]]
principal = "acs:ram::1234567890123456:role/admin"
rd_account_ids = [111]

[[access]]
principal = "acs:ram::1234567890123456:role/sas-reader"
rd_account_ids = [222]

[[export]]
id = 1
duration = "1h"

[[export]]
id = 2
duration = "1h"
)";
}

std::string Exporter(const std::string& accounts, const std::string& tasks,
                     const std::string& interval = "300ms") {
  return "[exporter]\npoll_interval = \"" + interval +
         "\"\nrequest_timeout = \"2s\"\nconnect_timeout = \"1s\"\n\n" +
         accounts + "\n" + tasks;
}

std::string Account(const Simulator& sim, const std::string& name,
                    const std::string& credentials) {
  return "[[account]]\nname = \"" + name + "\"\nendpoint = \"" + sim.url() +
         "\"\nmax_requests_per_second = 100\n[account.credentials]\n" +
         credentials + "\n";
}

std::string Task(const std::string& account, long export_id, long rd = 0) {
  return "[[task]]\naccount = \"" + account +
         "\"\nexport_id = " + std::to_string(export_id) + "\n" +
         (rd ? "rd_account_id = " + std::to_string(rd) + "\n" : "") + "\n";
}

std::string Up(const std::string& account, long export_id, long rd = 0) {
  return "aliyun_sas_export_up{account=\"" + account +
         "\",action=\"DescribeExportInfo\",export_id=\"" +
         std::to_string(export_id) + "\",rd_account_id=\"" +
         (rd ? std::to_string(rd) : "") + "\"}";
}

bool WaitUp(const sas::testing::Exporter& exporter, const std::string& series,
            double value = 1, Seconds timeout = Seconds(20)) {
  return WaitUntil(
      [&] { return FindSample(exporter.Metrics(), series) == value; }, timeout);
}

void ExpectNoSecrets(const std::string& text) {
  EXPECT_THAT(text, Not(HasSubstr("ADMINSECRET")));
  EXPECT_THAT(text, Not(HasSubstr(kOidcToken)));
  EXPECT_THAT(text, Not(HasSubstr("SecurityToken\":")));
  EXPECT_THAT(text, Not(HasSubstr("AccessKeySecret")));
}

std::string Keys() {
  return "access_key_id = \"ADMINKEY\"\naccess_key_secret = \"ADMINSECRET\"\n";
}

TEST(Credentials, RoleChainIntoTwoMemberAccounts) {
  Simulator sim(Scenario(), {"ADMINKEY:ADMINSECRET"});
  std::string sts = "sts_endpoint = \"" + sim.url() + "\"\n";
  sas::testing::Exporter exporter(Exporter(
      Account(sim, "root", "type = \"access_key\"\n" + Keys()) +
          Account(sim, "admin",
                  "type = \"ram_role_arn\"\nrole_arn = \"" +
                      std::string(kAdminRole) +
                      "\"\nsource_account = \"root\"\n" + sts) +
          Account(sim, "reader",
                  "type = \"ram_role_arn\"\nrole_arn = \"" +
                      std::string(kReaderRole) +
                      "\"\nsource_account = \"admin\"\n" + sts),
      Task("admin", 1, 111) + Task("reader", 2, 222) + Task("reader", 1, 111)));
  ASSERT_TRUE(WaitUp(exporter, Up("admin", 1, 111)))
      << exporter.process().output();
  ASSERT_TRUE(WaitUp(exporter, Up("reader", 2, 222)));
  // The reader role may not read member 111.
  ASSERT_TRUE(WaitUntil([&] {
    return FindSample(exporter.Metrics(),
                      "aliyun_sas_api_request_errors_total{account=\"reader\","
                      "action=\"DescribeExportInfo\",code="
                      "\"RdCheckNoPermission\"}")
        .has_value();
  })) << exporter.process().output();
  std::string metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, Up("reader", 1, 111)), 0);
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_credentials_expiry_timestamp_"
                                 "seconds{account=\"reader\",provider=\"ram_"
                                 "role_arn\"}"));
  EXPECT_THAT(metrics, Not(HasSubstr("aliyun_sas_credentials_expiry_timestamp_"
                                     "seconds{account=\"root\"")));
  auto stats = nlohmann::json::parse(sim.Stats());
  EXPECT_GE(stats["sts"]["AssumeRole"].get<int>(), 2);
  exporter.process().Signal(SIGTERM);
  exporter.process().Wait();
  ExpectNoSecrets(exporter.process().output());
  ExpectNoSecrets(metrics);
}

TEST(Credentials, PollsKeepSucceedingAcrossExpiries) {
  Simulator sim(Scenario("4s"), {"ADMINKEY:ADMINSECRET"});
  sas::testing::Exporter exporter(
      Exporter(Account(sim, "admin",
                       "type = \"ram_role_arn\"\nrole_arn = \"" +
                           std::string(kAdminRole) + "\"\n" + Keys() +
                           "sts_endpoint = \"" + sim.url() + "\"\n"),
               Task("admin", 1, 111)));
  ASSERT_TRUE(WaitUp(exporter, Up("admin", 1, 111)))
      << exporter.process().output();
  // Three lifetimes: the credentials are replaced at least twice.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return FindSample(exporter.Metrics(),
                          "aliyun_sas_credentials_refreshes_total{account="
                          "\"admin\"")
                   .value_or(0) >= 4;
      },
      Seconds(30)));
  std::string metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, Up("admin", 1, 111)), 1);
  EXPECT_THAT(metrics, Not(HasSubstr("InvalidSecurityToken")));
  EXPECT_THAT(metrics, Not(HasSubstr("code=\"credentials\"")));
}

TEST(Credentials, RefreshFailureKeepsOldCredentialsAndRecovers) {
  Simulator sim(Scenario("12s"), {"ADMINKEY:ADMINSECRET"});
  sas::testing::Exporter exporter(
      Exporter(Account(sim, "admin",
                       "type = \"ram_role_arn\"\nrole_arn = \"" +
                           std::string(kAdminRole) + "\"\n" + Keys() +
                           "sts_endpoint = \"" + sim.url() + "\"\n"),
               Task("admin", 1, 111)));
  ASSERT_TRUE(WaitUp(exporter, Up("admin", 1, 111)))
      << exporter.process().output();
  httplib::Client control("127.0.0.1", sim.port());
  ASSERT_TRUE(control.Get("/_simulator/fail?service=sts&count=2"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return FindSample(exporter.Metrics(),
                          "aliyun_sas_credentials_refresh_errors_total{account="
                          "\"admin\",code=\"ServiceUnavailable\"")
                   .value_or(0) >= 2;
      },
      Seconds(30)))
      << exporter.process().output();
  // Recovered: a later refresh succeeds and polls never stopped working.
  double refreshes =
      *FindSample(exporter.Metrics(),
                  "aliyun_sas_credentials_refreshes_total{account=\"admin\"");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return FindSample(exporter.Metrics(),
                          "aliyun_sas_credentials_refreshes_total{account="
                          "\"admin\"")
                   .value_or(0) > refreshes;
      },
      Seconds(30)));
  EXPECT_EQ(FindSample(exporter.Metrics(), Up("admin", 1, 111)), 1);
}

TEST(Credentials, EcsRamRoleThroughTheMetadataService) {
  Simulator sim(Scenario(), {"ADMINKEY:ADMINSECRET"});
  sas::testing::Exporter exporter(
      Exporter(Account(sim, "ecs",
                       "type = \"ecs_ram_role\"\nmetadata_endpoint = \"" +
                           sim.url() + "\"\n"),
               Task("ecs", 2, 222)));
  ASSERT_TRUE(WaitUp(exporter, Up("ecs", 2, 222)))
      << exporter.process().output();
  EXPECT_THAT(
      exporter.Metrics(),
      HasSubstr("aliyun_sas_credentials_refreshes_total{account=\"ecs\","
                "provider=\"ecs_ram_role\"}"));
  auto stats = nlohmann::json::parse(sim.Stats());
  EXPECT_GE(stats["metadata"]["token"].get<int>(), 1);
}

TEST(Credentials, OidcRoleWithATokenFile) {
  Simulator sim(Scenario(), {"ADMINKEY:ADMINSECRET"});
  TempDir dir;
  std::string token = dir.Write("token", std::string(kOidcToken) + "\n");
  sas::testing::Exporter exporter(Exporter(
      Account(sim, "rrsa",
              "type = \"oidc_role_arn\"\nrole_arn = \"" +
                  std::string(kReaderRole) + "\"\noidc_provider_arn = \"" +
                  kOidcProvider + "\"\noidc_token_file = \"" + token +
                  "\"\nsts_endpoint = \"" + sim.url() + "\"\n"),
      Task("rrsa", 2, 222)));
  ASSERT_TRUE(WaitUp(exporter, Up("rrsa", 2, 222)))
      << exporter.process().output();
  exporter.process().Signal(SIGTERM);
  exporter.process().Wait();
  ExpectNoSecrets(exporter.process().output());
}

TEST(Credentials, CliProfileCredentialsFileAndUri) {
  Simulator sim(Scenario(), {"ADMINKEY:ADMINSECRET"});
  TempDir dir;
  std::string cli = dir.Write("config.json", R"({
  "current": "chained",
  "profiles": [
    {"name": "base", "mode": "AK", "access_key_id": "ADMINKEY",
     "access_key_secret": "ADMINSECRET"},
    {"name": "chained", "mode": "RamRoleArn", "access_key_id": "ADMINKEY",
     "access_key_secret": "ADMINSECRET",
     "ram_role_arn": "acs:ram::1234567890123456:role/admin",
     "ram_session_name": "cli-session", "expired_seconds": 900},
    {"name": "member", "mode": "ChainableRamRoleArn",
     "source_profile": "chained",
     "ram_role_arn": "acs:ram::1234567890123456:role/sas-reader"}
  ]
})");
  std::string ini = dir.Write("credentials", R"(
[default]
type = access_key
access_key_id = ADMINKEY
access_key_secret = ADMINSECRET

[reader]
type = ram_role_arn
access_key_id = ADMINKEY
access_key_secret = ADMINSECRET
role_arn = acs:ram::1234567890123456:role/admin
)");
  std::string sts = "sts_endpoint = \"" + sim.url() + "\"\n";
  sas::testing::Exporter exporter(Exporter(
      Account(sim, "cli",
              "type = \"cli_profile\"\nfile = \"" + cli + "\"\n" + sts) +
          Account(sim, "cli-chain",
                  "type = \"cli_profile\"\nprofile = \"member\"\nfile = \"" +
                      cli + "\"\n" + sts) +
          Account(sim, "cli-ak",
                  "type = \"cli_profile\"\nprofile = \"base\"\nfile = \"" +
                      cli + "\"\n") +
          Account(
              sim, "ini",
              "type = \"credentials_file\"\nprofile = \"reader\"\nfile = \"" +
                  ini + "\"\n" + sts) +
          Account(sim, "uri",
                  "type = \"credentials_uri\"\nuri = \"" + sim.url() +
                      "/latest/meta-data/ram/security-credentials/"
                      "EcsSasReader\"\n"),
      Task("cli", 1, 111) + Task("cli-chain", 2, 222) + Task("cli-ak", 1) +
          Task("ini", 1, 111) + Task("uri", 2, 222)));
  for (auto [account, export_id, rd] :
       std::vector<std::tuple<std::string, long, long>>{{"cli", 1, 111},
                                                        {"cli-ak", 1, 0},
                                                        {"ini", 1, 111},
                                                        {"uri", 2, 222}}) {
    EXPECT_TRUE(WaitUp(exporter, Up(account, export_id, rd)))
        << account << "\n"
        << exporter.process().output();
  }
  std::string metrics = exporter.Metrics();
  EXPECT_THAT(metrics, HasSubstr("account=\"cli\",provider=\"cli_profile\""));
  EXPECT_THAT(metrics,
              HasSubstr("account=\"ini\",provider=\"credentials_file\""));
  EXPECT_THAT(metrics,
              HasSubstr("account=\"uri\",provider=\"credentials_uri\""));
}

TEST(Credentials, IniOidcProfileAndCliExternalProfile) {
  Simulator sim(Scenario(), {"ADMINKEY:ADMINSECRET"});
  TempDir dir;
  std::string token = dir.Write("token", std::string(kOidcToken) + "\n");
  std::string ini = dir.Write("credentials", R"(
[rrsa]
type = oidc_role_arn
role_arn = acs:ram::1234567890123456:role/sas-reader
oidc_provider_arn = acs:ram::1234567890123456:oidc-provider/ack-rrsa
oidc_token_file_path = )" + token + R"(
role_session_name = ini-oidc
)");
  // The External commands: one prints the admin key, one fails.
  std::string good = dir.Write("creds.sh", R"(#!/bin/sh
echo "creds for $1" >&2
printf '{"mode": "AK", "access_key_id": "ADMINKEY", "access_key_secret": "ADMINSECRET"}\n'
)");
  std::string bad = dir.Write("fail.sh", R"(#!/bin/sh
printf '{"access_key_secret": "ADMINSECRET"}'
echo "session expired, run login" >&2
exit 2
)");
  ASSERT_EQ(::chmod(good.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(bad.c_str(), 0700), 0);
  std::string cli = dir.Write("config.json", R"({
  "current": "external",
  "profiles": [
    {"name": "external", "mode": "external",
     "process_command": ")" + good + R"( 'some arg'"},
    {"name": "admin", "mode": "ChainableRamRoleArn",
     "source_profile": "external",
     "ram_role_arn": "acs:ram::1234567890123456:role/admin"},
    {"name": "broken", "mode": "External", "process_command": ")" +
                                                 bad + R"("}
  ]
})");
  std::string sts = "sts_endpoint = \"" + sim.url() + "\"\n";
  sas::testing::Exporter exporter(Exporter(
      Account(sim, "ini-oidc",
              "type = \"credentials_file\"\nprofile = \"rrsa\"\nfile = \"" +
                  ini + "\"\n" + sts) +
          Account(sim, "external",
                  "type = \"cli_profile\"\nfile = \"" + cli + "\"\n") +
          Account(sim, "external-admin",
                  "type = \"cli_profile\"\nprofile = \"admin\"\nfile = \"" +
                      cli + "\"\n" + sts) +
          Account(sim, "broken",
                  "type = \"cli_profile\"\nprofile = \"broken\"\nfile = \"" +
                      cli + "\"\n"),
      Task("ini-oidc", 2, 222) + Task("external", 1) +
          Task("external-admin", 1, 111) + Task("broken", 1)));
  EXPECT_TRUE(WaitUp(exporter, Up("ini-oidc", 2, 222)))
      << exporter.process().output();
  EXPECT_TRUE(WaitUp(exporter, Up("external", 1)))
      << exporter.process().output();
  EXPECT_TRUE(WaitUp(exporter, Up("external-admin", 1, 111)))
      << exporter.process().output();
  EXPECT_TRUE(WaitUntil([&] {
    return exporter.process().output().find(
               "exited with status 2; stderr: session expired, run login") !=
           std::string::npos;
  })) << exporter.process().output();
  std::string metrics = exporter.Metrics();
  EXPECT_THAT(metrics,
              HasSubstr("account=\"ini-oidc\",provider=\"credentials_file\""));
  EXPECT_NE(FindSample(metrics, Up("broken", 1)), 1);
  exporter.process().Signal(SIGTERM);
  exporter.process().Wait();
  ExpectNoSecrets(exporter.process().output());
  ExpectNoSecrets(metrics);
}

TEST(Credentials, DefaultChainFromTheEnvironmentAndItsErrors) {
  Simulator sim(Scenario(), {"ADMINKEY:ADMINSECRET"});
  TempDir home;
  std::string config = Exporter(
      "[[account]]\nname = \"env\"\nendpoint = \"" + sim.url() + "\"\n",
      Task("env", 1));
  std::vector<std::string> clean = {"HOME=" + home.path(),
                                    "ALIBABA_CLOUD_ACCESS_KEY_ID",
                                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                    "ALIBABA_CLOUD_SECURITY_TOKEN",
                                    "ALIBABA_CLOUD_ROLE_ARN",
                                    "ALIBABA_CLOUD_CONFIG_FILE",
                                    "ALIBABA_CLOUD_CREDENTIALS_FILE",
                                    "ALIBABA_CLOUD_CREDENTIALS_URI",
                                    "ALIBABA_CLOUD_PROFILE",
                                    "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"};
  {
    std::vector<std::string> env = clean;
    env.push_back("ALIBABA_CLOUD_ACCESS_KEY_ID=ADMINKEY");
    env.push_back("ALIBABA_CLOUD_ACCESS_KEY_SECRET=ADMINSECRET");
    sas::testing::Exporter exporter(config, env);
    ASSERT_TRUE(WaitUp(exporter, Up("env", 1))) << exporter.process().output();
    EXPECT_THAT(exporter.Metrics(),
                HasSubstr("account=\"env\",provider=\"access_key\""));
  }
  {
    sas::testing::Exporter exporter(config, clean);
    ASSERT_TRUE(WaitUp(exporter, Up("env", 1), 0))
        << exporter.process().output();
    exporter.process().Signal(SIGTERM);
    exporter.process().Wait();
    std::string logs = exporter.process().output();
    EXPECT_THAT(logs, HasSubstr("code=NoCredentials"));
    EXPECT_THAT(logs, HasSubstr("ALIBABA_CLOUD_ACCESS_KEY_ID"));
    EXPECT_THAT(logs, HasSubstr("ALIBABA_CLOUD_ECS_METADATA_DISABLED"));
    EXPECT_THAT(logs, HasSubstr("ALIBABA_CLOUD_CREDENTIALS_URI"));
  }
}

TEST(Credentials, CheckAccountsPrintsATableAndFailsOnAnyError) {
  Simulator sim(Scenario(), {"ADMINKEY:ADMINSECRET"});
  TempDir dir;
  std::string sts = "sts_endpoint = \"" + sim.url() + "\"\n";
  std::string good = dir.Write(
      "good.toml",
      Exporter(Account(sim, "admin",
                       "type = \"ram_role_arn\"\nrole_arn = \"" +
                           std::string(kAdminRole) + "\"\n" + Keys() + sts),
               Task("admin", 1, 111)));
  Process ok({ExporterBinary(), "--config.file", good, "--check.accounts"});
  ASSERT_EQ(ok.Wait(), 0) << ok.output();
  EXPECT_THAT(ok.stdout_text(), HasSubstr("ACCOUNT"));
  EXPECT_THAT(ok.stdout_text(), HasSubstr("ram_role_arn"));
  EXPECT_THAT(ok.stdout_text(), HasSubstr(sim.url()));

  std::string bad = dir.Write(
      "bad.toml",
      Exporter(Account(sim, "admin",
                       "type = \"ram_role_arn\"\nrole_arn = \"" +
                           std::string(kReaderRole) + "\"\n" + Keys() + sts) +
                   Account(sim, "root", "type = \"access_key\"\n" + Keys()),
               Task("root", 1)));
  Process failing({ExporterBinary(), "--config.file", bad, "--check.accounts"});
  ASSERT_EQ(failing.Wait(), 1) << failing.output();
  EXPECT_THAT(failing.stdout_text(), HasSubstr("NoPermission"));
  EXPECT_THAT(failing.stdout_text(), HasSubstr("root"));
  ExpectNoSecrets(failing.output());
}

// Everything the exporter writes or serves during a run with every kind of
// secret in play: a long-lived AccessKey secret, STS tokens of a role chain
// ("CAIS..."), an OIDC token file, and exports that finished, whose answers
// carry a signed download Link. None of it may appear anywhere.
TEST(Credentials, NoSecretInAnyOutputOfAFullRun) {
  const std::string ak_secret = "LongLivedAkSecret7fQ2xZ";
  std::string scenario = Scenario() + R"(
[[export]]
id = 3
duration = "0s"

[[export]]
id = 4
duration = "0s"
)";
  Simulator sim(scenario, {"ADMINKEY:" + ak_secret});
  TempDir dir;
  std::string token = dir.Write("token", std::string(kOidcToken) + "\n");
  std::string sts = "sts_endpoint = \"" + sim.url() + "\"\n";
  std::string keys = "access_key_id = \"ADMINKEY\"\naccess_key_secret = \"" +
                     ak_secret + "\"\n";
  std::string config = Exporter(
      Account(sim, "root", "type = \"access_key\"\n" + keys) +
          Account(sim, "admin",
                  "type = \"ram_role_arn\"\nrole_arn = \"" +
                      std::string(kAdminRole) +
                      "\"\nsource_account = \"root\"\n" + sts) +
          Account(sim, "rrsa",
                  "type = \"oidc_role_arn\"\nrole_arn = \"" +
                      std::string(kReaderRole) + "\"\noidc_provider_arn = \"" +
                      kOidcProvider + "\"\noidc_token_file = \"" + token +
                      "\"\n" + sts),
      Task("root", 3) + Task("admin", 1, 111));
  sas::testing::Exporter exporter(
      config, {},
      {"--web.enable-task-api", "--storage.path", dir.path() + "/data"});
  ASSERT_TRUE(WaitUntil([&] { return exporter.Get("/-/ready").first == 200; }))
      << exporter.process().output();
  httplib::Client api("127.0.0.1", exporter.port());
  for (const char* task :
       {R"({"account": "admin", "export_id": 3, "rd_account_id": 111,
            "name": "finished via the API"})",
        R"({"account": "rrsa", "export_id": 4, "rd_account_id": 222})"}) {
    auto created = api.Post("/api/v1/tasks", task, "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
  }
  // Finished exports: their answers carried the download Link.
  auto success = [](const std::string& account, long export_id, long rd) {
    return "aliyun_sas_export_status{account=\"" + account +
           "\",action=\"DescribeExportInfo\",export_id=\"" +
           std::to_string(export_id) + "\",rd_account_id=\"" +
           (rd ? std::to_string(rd) : "") + "\",status=\"success\"}";
  };
  ASSERT_TRUE(WaitUp(exporter, success("root", 3, 0)))
      << exporter.process().output();
  ASSERT_TRUE(WaitUp(exporter, success("admin", 3, 111)));
  ASSERT_TRUE(WaitUp(exporter, success("rrsa", 4, 222)));
  ASSERT_TRUE(WaitUp(exporter, Up("admin", 1, 111)));
  auto stats = nlohmann::json::parse(sim.Stats());
  EXPECT_GE(stats["sts"]["AssumeRole"].get<int>(), 1);
  EXPECT_GE(stats["sts"]["AssumeRoleWithOIDC"].get<int>(), 1);

  std::map<std::string, std::string> outputs;
  outputs["/metrics"] = exporter.Metrics();
  outputs["/"] = exporter.Get("/").second;
  outputs["GET /api/v1/tasks"] = exporter.Get("/api/v1/tasks").second;
  outputs["GET /api/v1/tasks/admin/3"] =
      exporter.Get("/api/v1/tasks/admin/3?rd_account_id=111").second;
  EXPECT_THAT(outputs["GET /api/v1/tasks"], HasSubstr("finished via the API"));
  EXPECT_THAT(outputs["/"], HasSubstr("rrsa"));
  Process check({ExporterBinary(), "--config.file",
                 exporter.dir().path() + "/exporter.toml", "--check.accounts",
                 "--log.level", "debug", "--log.format", "json"});
  ASSERT_EQ(check.Wait(), 0) << check.output();
  outputs["--check.accounts"] = check.output();
  EXPECT_THAT(outputs["--check.accounts"], HasSubstr("oidc_role_arn"));
  exporter.process().Signal(SIGTERM);
  ASSERT_EQ(exporter.process().Wait(), 0);
  outputs["exporter log"] = exporter.process().output();
  EXPECT_THAT(outputs["exporter log"], HasSubstr("level=debug"));

  for (const auto& [where, text] : outputs) {
    for (const std::string& secret :
         {ak_secret, std::string(kOidcToken), std::string("CAIS"),
          std::string("Signature="), std::string("OSSAccessKeyId"),
          std::string("SecurityToken\""), std::string("AccessKeySecret")}) {
      EXPECT_THAT(text, Not(HasSubstr(secret))) << where;
    }
  }
}

}  // namespace
}  // namespace sas::testing

namespace sas::testing {
namespace {

TEST(Credentials, ConfigCheckReadsCredentialFiles) {
  TempDir dir;
  std::string cli = dir.Write("config.json", R"({"current": "a", "profiles": [
  {"name": "a", "mode": "AK", "access_key_id": "K", "access_key_secret": "S"}
]})");
  std::string config = dir.Write(
      "exporter.toml",
      "[[account]]\nname = \"x\"\nregion = \"cn-hangzhou\"\n"
      "[account.credentials]\ntype = \"cli_profile\"\nprofile = \"nope\"\n"
      "file = \"" +
          cli + "\"\n");
  Process check({ExporterBinary(), "--config.file", config, "--config.check"});
  ASSERT_EQ(check.Wait(), 1) << check.output();
  EXPECT_THAT(check.output(), HasSubstr(cli + ": no profile named \"nope\""));
}

}  // namespace
}  // namespace sas::testing
