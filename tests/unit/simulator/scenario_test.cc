#include "simulator/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/memory_file_system.h"

namespace sas::simulator {
namespace {

using ::sas::testing::MemoryFileSystem;

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

Scenario MustParse(std::string_view text) {
  std::string error;
  std::optional<Scenario> scenario = ParseScenario(text, "s.toml", &error);
  EXPECT_TRUE(scenario.has_value()) << error;
  return scenario.value_or(Scenario{});
}

std::string ParseError(std::string_view text) {
  std::string error;
  EXPECT_FALSE(ParseScenario(text, "s.toml", &error).has_value()) << text;
  return error;
}

TEST(Scenario, ParsesEveryKey) {
  Scenario scenario = MustParse(R"(
[simulator]
seed = 42

[[export]]
id = 1001
file_name = "asset_export_1001"
total_count = 5000
init_duration = "5s"
duration = "1m30s"
stuck_at = 40
stuck_in_init = true
final_status = "failed"
error_code = "ServerError"
error_status = 503
error_message = "The request processing has failed."
error_rate = 0.25
throttle_rate = 0.5
retry_after = "100ms"
latency = "200ms"
rd_account_id = 1234567
non_json_rate = 1
)");
  EXPECT_EQ(scenario.seed, 42u);
  ASSERT_EQ(scenario.exports.size(), 1u);
  const ExportSpec& e = scenario.exports[0];
  EXPECT_EQ(e.id, 1001);
  EXPECT_EQ(e.file_name, "asset_export_1001");
  EXPECT_EQ(e.total_count, 5000);
  EXPECT_EQ(e.init_duration, seconds(5));
  EXPECT_EQ(e.duration, seconds(90));
  EXPECT_EQ(e.stuck_at, 40);
  EXPECT_TRUE(e.stuck_in_init);
  EXPECT_EQ(e.final_status, "failed");
  EXPECT_EQ(e.error_code, "ServerError");
  EXPECT_EQ(e.error_status, 503);
  EXPECT_EQ(e.error_message, "The request processing has failed.");
  EXPECT_DOUBLE_EQ(e.error_rate, 0.25);
  EXPECT_DOUBLE_EQ(e.throttle_rate, 0.5);
  EXPECT_EQ(e.retry_after, milliseconds(100));
  EXPECT_EQ(e.latency, milliseconds(200));
  EXPECT_EQ(e.rd_account_id, 1234567);
  EXPECT_DOUBLE_EQ(e.non_json_rate, 1.0);
  EXPECT_EQ(scenario.Find(1001), &scenario.exports[0]);
  EXPECT_EQ(scenario.Find(1002), nullptr);
}

TEST(Scenario, Defaults) {
  Scenario scenario = MustParse(
      "[[export]]\nid = 7\n"
      "[[export]]\nid = 8\nerror_code = \"X\"\n");
  EXPECT_FALSE(scenario.seed.has_value());
  ASSERT_EQ(scenario.exports.size(), 2u);
  const ExportSpec& e = scenario.exports[0];
  EXPECT_EQ(e.file_name, "export_7");
  EXPECT_EQ(e.total_count, 1000);
  EXPECT_EQ(e.init_duration, seconds(0));
  EXPECT_EQ(e.duration, seconds(60));
  EXPECT_FALSE(e.stuck_at.has_value());
  EXPECT_FALSE(e.stuck_in_init);
  EXPECT_FALSE(e.final_status.has_value());
  EXPECT_EQ(e.error_code, "");
  EXPECT_DOUBLE_EQ(e.throttle_rate, 0.0);
  EXPECT_EQ(e.retry_after, seconds(1));
  EXPECT_EQ(e.latency, seconds(0));
  EXPECT_FALSE(e.rd_account_id.has_value());
  EXPECT_DOUBLE_EQ(e.non_json_rate, 0.0);
  const ExportSpec& x = scenario.exports[1];
  EXPECT_EQ(x.error_status, 500);
  EXPECT_EQ(x.error_message, "X");
  EXPECT_DOUBLE_EQ(x.error_rate, 1.0);
}

TEST(Scenario, EmptyDocumentHasNoExports) {
  EXPECT_TRUE(MustParse("").exports.empty());
}

TEST(Scenario, UnknownKeySuggestsNearest) {
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nduraton = \"5s\"\n"),
            "s.toml:3:1: unknown key \"duraton\" in [[export]]; did you mean "
            "\"duration\"?");
  EXPECT_EQ(ParseError("[simulator]\n  sead = 1\n"),
            "s.toml:2:3: unknown key \"sead\" in [simulator]; did you mean "
            "\"seed\"?");
  EXPECT_EQ(ParseError("[[exports]]\nid = 1\n"),
            "s.toml:1:3: unknown key \"exports\" in the top level; did you "
            "mean \"export\"?");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\ncolour = 1\n"),
            "s.toml:3:1: unknown key \"colour\" in [[export]]");
}

TEST(Scenario, WrongTypesNamePosition) {
  EXPECT_EQ(ParseError("[[export]]\nid = \"1001\"\n"),
            "s.toml:2:6: \"id\" must be an integer, not a string");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nstuck_in_init = 1\n"),
            "s.toml:3:17: \"stuck_in_init\" must be a boolean, not an "
            "integer");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nduration = 60\n"),
            "s.toml:3:12: \"duration\" must be a duration string such as "
            "\"30s\", not an integer");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nthrottle_rate = \"half\"\n"),
            "s.toml:3:17: \"throttle_rate\" must be a number between 0 and 1, "
            "not a string");
  EXPECT_EQ(ParseError("simulator = 1\n"),
            "s.toml:1:13: \"simulator\" must be a table, not an integer");
  EXPECT_EQ(ParseError("[export]\nid = 1\n"),
            "s.toml:1:1: \"export\" must be an array of tables ([[export]]), "
            "not a table");
}

TEST(Scenario, BadValues) {
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nlatency = \"5 s\"\n"),
              HasSubstr("s.toml:3:11: \"latency\": bad duration \"5 s\""));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nlatency = \"2562048h\"\n"),
              HasSubstr("s.toml:3:11: \"latency\" must be at most 10m, not "
                        "2562048h"));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nretry_after = \"2562048h\"\n"),
              HasSubstr("s.toml:3:15: \"retry_after\" must be at most 24h, not "
                        "2562048h"));
  EXPECT_THAT(ParseError("[[export]]\nid = 0\n"),
              HasSubstr("s.toml:2:6: \"id\" must be between 1 and"));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nstuck_at = 101\n"),
              HasSubstr("s.toml:3:12: \"stuck_at\" must be between 0 and 100"));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nerror_rate = 1.5\n"
                         "error_code = \"X\"\n"),
              HasSubstr("s.toml:3:14: \"error_rate\" must be between 0 and 1"));
  EXPECT_THAT(
      ParseError(
          "[[export]]\nid = 1\nerror_code = \"X\"\nerror_status = 200\n"),
      HasSubstr("s.toml:4:16: \"error_status\" must be between 400 and 599"));
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nerror_status = 503\n"),
            "s.toml:3:16: \"error_status\" has no effect without "
            "\"error_code\"");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nfile_name = \"\"\n"),
            "s.toml:3:13: \"file_name\" must not be empty");
}

TEST(Scenario, MissingAndDuplicateIds) {
  EXPECT_EQ(ParseError("[[export]]\nid = 1\n[[export]]\ntotal_count = 1\n"),
            "s.toml:3:1: [[export]] needs an \"id\"");
  EXPECT_EQ(ParseError("[[export]]\nid = 5\n[[export]]\nid = 5\n"),
            "s.toml:4:6: duplicate export id 5 of DescribeExportInfo (first "
            "defined at line 2)");
}

TEST(Scenario, TomlSyntaxErrorNamesPosition) {
  EXPECT_THAT(ParseError("[[export]]\nid = = 1\n"), HasSubstr("s.toml:2:"));
}

TEST(Scenario, LoadFileReportsReadErrors) {
  MemoryFileSystem files;
  files.Add("/etc/sim.toml", "[[export]]\nid = 3\n");
  std::string error;
  std::optional<Scenario> scenario =
      LoadScenarioFile(files, "/etc/sim.toml", &error);
  ASSERT_TRUE(scenario.has_value()) << error;
  EXPECT_EQ(scenario->exports.at(0).id, 3);
  EXPECT_FALSE(LoadScenarioFile(files, "/missing.toml", &error).has_value());
  EXPECT_THAT(error, HasSubstr("/missing.toml"));
}

TEST(Scenario, DemoScenarioParses) {
  std::string error;
  std::optional<Scenario> scenario = LoadScenarioFile(
      LocalFileSystem(), SAS_SOURCE_DIR "/config/simulator/demo.toml", &error);
  ASSERT_TRUE(scenario.has_value()) << error;
  EXPECT_GE(scenario->exports.size(), 8u);
}

// ---- Credentials: [sts], [[role]], [metadata], [[access]] ----

constexpr char kAdmin[] = "acs:ram::1234567890123456:role/admin";
constexpr char kReader[] = "acs:ram::1234567890123456:role/sas-reader";

TEST(Scenario, ParsesEveryCredentialKey) {
  Scenario scenario = MustParse(R"(
[sts]
credential_lifetime = "20s"

[[role]]
arn = "acs:ram::1234567890123456:role/sas-reader"
max_duration = "12h"
trusted_principals = ["AKID", "acs:ram::1234567890123456:role/admin"]
external_id = "abc"
oidc_provider_arn = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
oidc_tokens = ["eyJ.a.b", "eyJ.c.d"]

[[role]]
arn = "acs:ram::1234567890123456:role/admin"

[metadata]
role_name = "EcsSasReader"
role_arn = "acs:ram::1234567890123456:role/sas-reader"
credential_lifetime = "30m"
require_token = true

[[access]]
principal = "AKID"
rd_account_ids = [16670360956, 2]
allow_sas = false

[[access]]
principal = "acs:ram::1234567890123456:role/admin"
)");
  EXPECT_EQ(scenario.sts_credential_lifetime, seconds(20));
  ASSERT_EQ(scenario.roles.size(), 2u);
  const RoleSpec& role = scenario.roles[0];
  EXPECT_EQ(role.arn, kReader);
  EXPECT_EQ(role.parsed.account_id, "1234567890123456");
  EXPECT_EQ(role.parsed.name, "sas-reader");
  EXPECT_EQ(role.max_duration, std::chrono::hours(12));
  EXPECT_THAT(role.trusted_principals, ::testing::ElementsAre("AKID", kAdmin));
  EXPECT_EQ(role.external_id, "abc");
  EXPECT_EQ(role.oidc_provider_arn,
            "acs:ram::1234567890123456:oidc-provider/ack-rrsa");
  EXPECT_THAT(role.oidc_tokens, ::testing::ElementsAre("eyJ.a.b", "eyJ.c.d"));
  EXPECT_EQ(scenario.FindRole(kReader), &scenario.roles[0]);
  EXPECT_EQ(scenario.FindRole(kAdmin), &scenario.roles[1]);
  EXPECT_EQ(scenario.FindRole("acs:ram::1:role/x"), nullptr);
  ASSERT_TRUE(scenario.metadata.has_value());
  EXPECT_EQ(scenario.metadata->role_name, "EcsSasReader");
  EXPECT_EQ(scenario.metadata->role_arn, kReader);
  EXPECT_EQ(scenario.metadata->credential_lifetime, std::chrono::minutes(30));
  EXPECT_TRUE(scenario.metadata->require_token);
  ASSERT_EQ(scenario.access.size(), 2u);
  const AccessSpec* akid = scenario.FindAccess("AKID");
  ASSERT_NE(akid, nullptr);
  EXPECT_EQ(akid->rd_account_ids, (std::vector<int64_t>{16670360956, 2}));
  EXPECT_FALSE(akid->allow_sas);
  EXPECT_EQ(scenario.FindAccess("nobody"), nullptr);
}

TEST(Scenario, CredentialDefaults) {
  Scenario scenario = MustParse(R"(
[[role]]
arn = "acs:ram::1:role/r"

[metadata]
role_name = "R"
role_arn = "acs:ram::1:role/r"

[[access]]
principal = "AKID"
)");
  EXPECT_FALSE(scenario.sts_credential_lifetime.has_value());
  const RoleSpec& role = scenario.roles.at(0);
  EXPECT_EQ(role.max_duration, std::chrono::hours(1));
  EXPECT_TRUE(role.trusted_principals.empty());
  EXPECT_FALSE(role.external_id.has_value());
  EXPECT_FALSE(role.oidc_provider_arn.has_value());
  EXPECT_TRUE(role.oidc_tokens.empty());
  EXPECT_EQ(scenario.metadata->credential_lifetime, std::chrono::hours(6));
  EXPECT_FALSE(scenario.metadata->require_token);
  EXPECT_FALSE(scenario.access.at(0).rd_account_ids.has_value());
  EXPECT_TRUE(scenario.access.at(0).allow_sas);
  EXPECT_FALSE(MustParse("").metadata.has_value());
}

TEST(Scenario, PrincipalsMayNameRolesDefinedLater) {
  Scenario scenario = MustParse(R"(
[[access]]
principal = "acs:ram::1:role/b"
[metadata]
role_name = "B"
role_arn = "acs:ram::1:role/b"
[[role]]
arn = "acs:ram::1:role/a"
trusted_principals = ["acs:ram::1:role/b"]
[[role]]
arn = "acs:ram::1:role/b"
)");
  EXPECT_EQ(scenario.roles.size(), 2u);
}

TEST(Scenario, CredentialKeyErrors) {
  EXPECT_EQ(ParseError("[sts]\ncredential_lifetim = \"1s\"\n"),
            "s.toml:2:1: unknown key \"credential_lifetim\" in [sts]; did "
            "you mean \"credential_lifetime\"?");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "trusted_principal = []\n"),
            "s.toml:3:1: unknown key \"trusted_principal\" in [[role]]; did "
            "you mean \"trusted_principals\"?");
  EXPECT_EQ(ParseError("[metadata]\nrole_nam = \"R\"\n"),
            "s.toml:2:1: unknown key \"role_nam\" in [metadata]; did you "
            "mean \"role_name\"?");
  EXPECT_EQ(ParseError("[[access]]\nprincipal = \"A\"\nallow_sass = true\n"),
            "s.toml:3:1: unknown key \"allow_sass\" in [[access]]; did you "
            "mean \"allow_sas\"?");
  EXPECT_EQ(ParseError("[[roles]]\narn = \"x\"\n"),
            "s.toml:1:3: unknown key \"roles\" in the top level; did you "
            "mean \"role\"?");
}

TEST(Scenario, RoleErrors) {
  EXPECT_EQ(ParseError("[[role]]\nmax_duration = \"1h\"\n"),
            "s.toml:1:1: [[role]] needs an \"arn\"");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:user/a\"\n"),
            "s.toml:2:7: \"arn\" must look like \"acs:ram::<account "
            "id>:role/<name>\" (name: 1 to 64 of A-Z a-z 0-9 . _ -), not "
            "\"acs:ram::1:user/a\"");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "[[role]]\narn = \"acs:ram::1:role/a\"\n"),
            "s.toml:4:7: duplicate role \"acs:ram::1:role/a\" (first defined "
            "at line 2)");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "max_duration = \"14m\"\n"),
            "s.toml:3:16: \"max_duration\" must be between 15m and 12h, not "
            "14m");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "max_duration = \"13h\"\n"),
            "s.toml:3:16: \"max_duration\" must be between 15m and 12h, not "
            "13h");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "max_duration = \"1h500ms\"\n"),
            "s.toml:3:16: \"max_duration\" must be whole seconds, not "
            "1h0.5s");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "trusted_principals = \"AKID\"\n"),
            "s.toml:3:22: \"trusted_principals\" must be an array of "
            "strings, not a string");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "trusted_principals = [\"AKID\", 5]\n"),
            "s.toml:3:31: \"trusted_principals[]\" must be a string, not an "
            "integer");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "trusted_principals = [\"\"]\n"),
            "s.toml:3:23: \"trusted_principals\" must not contain empty "
            "strings");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "trusted_principals = [\"acs:ram::1:role/b\"]\n"),
            "s.toml:3:23: \"trusted_principals\": \"acs:ram::1:role/b\" is "
            "not the arn of a [[role]] in this scenario");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "oidc_provider_arn = \"acs:ram::1:role/a\"\n"),
            "s.toml:3:21: \"oidc_provider_arn\" must look like "
            "\"acs:ram::<account id>:oidc-provider/<name>\" (name: 1 to 64 "
            "of A-Z a-z 0-9 . _ -), not \"acs:ram::1:role/a\"");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "oidc_tokens = [\"t\"]\n"),
            "s.toml:3:15: \"oidc_tokens\" has no effect without "
            "\"oidc_provider_arn\"");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n"
                       "external_id = \"\"\n"),
            "s.toml:3:15: \"external_id\" must not be empty");
  EXPECT_EQ(ParseError("[role]\narn = \"acs:ram::1:role/a\"\n"),
            "s.toml:1:1: \"role\" must be an array of tables ([[role]]), not "
            "a table");
}

TEST(Scenario, MetadataErrors) {
  EXPECT_EQ(ParseError("[metadata]\nrole_arn = \"acs:ram::1:role/a\"\n"),
            "s.toml:1:1: [metadata] needs a \"role_name\"");
  EXPECT_EQ(ParseError("[metadata]\nrole_name = \"R\"\n"),
            "s.toml:1:1: [metadata] needs a \"role_arn\"");
  EXPECT_EQ(ParseError("[metadata]\nrole_name = \"a/b\"\n"),
            "s.toml:2:13: \"role_name\" must not contain '/'");
  EXPECT_EQ(ParseError("[metadata]\nrole_name = \"R\"\n"
                       "role_arn = \"acs:ram::1:role/missing\"\n"),
            "s.toml:3:12: \"role_arn\": \"acs:ram::1:role/missing\" is not "
            "the arn of a [[role]] in this scenario");
  EXPECT_EQ(ParseError("[metadata]\nrole_name = \"R\"\nrole_arn = \"R\"\n"),
            "s.toml:3:12: \"role_arn\" must look like \"acs:ram::<account "
            "id>:role/<name>\" (name: 1 to 64 of A-Z a-z 0-9 . _ -), not "
            "\"R\"");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n[metadata]\n"
                       "role_name = \"R\"\nrole_arn = \"acs:ram::1:role/a\"\n"
                       "credential_lifetime = \"0s\"\n"),
            "s.toml:6:23: \"credential_lifetime\" must be between 1s and 24h, "
            "not 0s");
  EXPECT_EQ(ParseError("[[role]]\narn = \"acs:ram::1:role/a\"\n[metadata]\n"
                       "role_name = \"R\"\nrole_arn = \"acs:ram::1:role/a\"\n"
                       "require_token = \"yes\"\n"),
            "s.toml:6:17: \"require_token\" must be a boolean, not a string");
  EXPECT_EQ(ParseError("metadata = 1\n"),
            "s.toml:1:12: \"metadata\" must be a table, not an integer");
}

TEST(Scenario, StsAndAccessErrors) {
  EXPECT_EQ(ParseError("[sts]\ncredential_lifetime = \"500ms\"\n"),
            "s.toml:2:23: \"credential_lifetime\" must be between 1s and "
            "24h, not 500ms");
  EXPECT_EQ(ParseError("[sts]\ncredential_lifetime = 20\n"),
            "s.toml:2:23: \"credential_lifetime\" must be a duration string "
            "such as \"30s\", not an integer");
  EXPECT_EQ(ParseError("[[access]]\nallow_sas = false\n"),
            "s.toml:1:1: [[access]] needs a \"principal\"");
  EXPECT_EQ(ParseError("[[access]]\nprincipal = \"A\"\n"
                       "[[access]]\nprincipal = \"A\"\n"),
            "s.toml:4:13: duplicate [[access]] principal \"A\" (first "
            "defined at line 2)");
  EXPECT_EQ(ParseError("[[access]]\nprincipal = \"acs:ram::1:role/x\"\n"),
            "s.toml:2:13: \"principal\": \"acs:ram::1:role/x\" is not the arn "
            "of a [[role]] in this scenario");
  EXPECT_EQ(ParseError("[[access]]\nprincipal = \"A\"\n"
                       "rd_account_ids = [1, 0]\n"),
            "s.toml:3:22: \"rd_account_ids\" values must be at least 1, not "
            "0");
  EXPECT_EQ(ParseError("[[access]]\nprincipal = \"A\"\n"
                       "rd_account_ids = [\"1\"]\n"),
            "s.toml:3:19: \"rd_account_ids[]\" must be an integer, not a "
            "string");
  EXPECT_EQ(ParseError("[[access]]\nprincipal = \"A\"\nrd_account_ids = 1\n"),
            "s.toml:3:18: \"rd_account_ids\" must be an array of integers, "
            "not an integer");
}

TEST(RamArn, Parses) {
  std::optional<RamArn> role =
      ParseRamArn("acs:ram::1234567890123456:role/sas-reader", "role");
  ASSERT_TRUE(role.has_value());
  EXPECT_EQ(role->account_id, "1234567890123456");
  EXPECT_EQ(role->name, "sas-reader");
  EXPECT_TRUE(
      ParseRamArn("acs:ram::1:oidc-provider/ack.rrsa_1", "oidc-provider"));
  EXPECT_TRUE(ParseRamArn("acs:ram::1:role/" + std::string(64, 'a'), "role"));
  for (std::string bad : std::vector<std::string>{
           "", "acs:ram::1:role/", "acs:ram::1:role/" + std::string(65, 'a'),
           "acs:ram::1:roles/a", "acs:ram::1:rolea", "acs:ram:::role/a",
           "acs:ram::x:role/a", "acs:ram::1:role/a/b", "acs:ram::1:role/a b",
           "acs:ram::" + std::string(33, '1') + ":role/a", "ACS:ram::1:role/a",
           "acs:ram::1:oidc-provider/a"}) {
    EXPECT_FALSE(ParseRamArn(bad, "role")) << bad;
  }
}

TEST(Scenario, CredentialsScenarioParses) {
  std::string error;
  std::optional<Scenario> scenario = LoadScenarioFile(
      LocalFileSystem(), SAS_SOURCE_DIR "/config/simulator/credentials.toml",
      &error);
  ASSERT_TRUE(scenario.has_value()) << error;
  EXPECT_GE(scenario->roles.size(), 4u);
  EXPECT_TRUE(scenario->metadata.has_value());
  EXPECT_GE(scenario->access.size(), 2u);
  EXPECT_GE(scenario->exports.size(), 3u);
}

ExportSpec Curve() {
  ExportSpec spec;
  spec.id = 1;
  spec.total_count = 5000;
  spec.init_duration = seconds(5);
  spec.duration = seconds(60);
  return spec;
}

void ExpectState(const ExportSpec& spec, Millis at, const std::string& status,
                 int progress, int64_t count) {
  ExportState state = StateAt(spec, at);
  EXPECT_EQ(state.status, status) << at.count() << "ms";
  EXPECT_EQ(state.progress, progress) << at.count() << "ms";
  EXPECT_EQ(state.current_count, count) << at.count() << "ms";
}

TEST(ProgressCurve, InitThenLinearThenSuccess) {
  ExportSpec spec = Curve();
  ExpectState(spec, seconds(0), "init", 0, 0);
  ExpectState(spec, milliseconds(4999), "init", 0, 0);
  ExpectState(spec, seconds(5), "exporting", 0, 0);
  ExpectState(spec, milliseconds(5599), "exporting", 0, 0);
  ExpectState(spec, milliseconds(5600), "exporting", 1, 50);
  ExpectState(spec, seconds(35), "exporting", 50, 2500);
  ExpectState(spec, milliseconds(64999), "exporting", 99, 4950);
  ExpectState(spec, seconds(65), "success", 100, 5000);
  ExpectState(spec, std::chrono::hours(100), "success", 100, 5000);
}

TEST(ProgressCurve, ZeroDurationFinishesAtOnce) {
  ExportSpec spec = Curve();
  spec.init_duration = seconds(0);
  spec.duration = seconds(0);
  ExpectState(spec, seconds(0), "success", 100, 5000);
}

TEST(ProgressCurve, StuckAtStaysExporting) {
  ExportSpec spec = Curve();
  spec.stuck_at = 40;
  ExpectState(spec, seconds(20), "exporting", 25, 1250);
  ExpectState(spec, seconds(29), "exporting", 40, 2000);
  ExpectState(spec, std::chrono::hours(100), "exporting", 40, 2000);
}

TEST(ProgressCurve, StuckInInit) {
  ExportSpec spec = Curve();
  spec.stuck_in_init = true;
  ExpectState(spec, std::chrono::hours(100), "init", 0, 0);
}

TEST(ProgressCurve, FinalStatusReplacesSuccess) {
  ExportSpec spec = Curve();
  spec.final_status = "failed";
  ExpectState(spec, seconds(35), "exporting", 50, 2500);
  ExpectState(spec, seconds(65), "failed", 100, 5000);
}

TEST(ProgressCurve, FinalStatusWithStuckAtEndsThere) {
  ExportSpec spec = Curve();
  spec.final_status = "failed";
  spec.stuck_at = 37;
  ExpectState(spec, seconds(20), "exporting", 25, 1250);
  ExpectState(spec, seconds(30), "failed", 37, 1850);
}

}  // namespace
}  // namespace sas::simulator

namespace sas::simulator {
namespace {

TEST(Scenario, ParsesThePerActionKeys) {
  Scenario scenario = MustParse(R"(
[[export]]
id = 7
action = "DescribeHcExportInfo"
sparse = true
throttle_rate = 1
throttle_status = 503
throttle_code = "ServiceUnavailable"
created_ago = "48h"

[[export]]
id = 7
action = "DescribeBackUpExportInfo"
)");
  ASSERT_EQ(scenario.exports.size(), 2u);
  const ExportSpec& hc = scenario.exports[0];
  EXPECT_EQ(hc.action, aliyun::ExportAction::kDescribeHcExportInfo);
  EXPECT_TRUE(hc.sparse);
  EXPECT_EQ(hc.throttle_status, 503);
  EXPECT_EQ(hc.throttle_code, "ServiceUnavailable");
  EXPECT_EQ(hc.created_ago, std::chrono::hours(48));
  // The same id under two actions is two exports.
  EXPECT_EQ(scenario.Find(7, aliyun::ExportAction::kDescribeHcExportInfo),
            &scenario.exports[0]);
  EXPECT_EQ(scenario.Find(7, aliyun::ExportAction::kDescribeBackUpExportInfo),
            &scenario.exports[1]);
  EXPECT_EQ(scenario.Find(7), nullptr);
  EXPECT_EQ(scenario.exports[1].created_ago, Millis(0));
}

TEST(Scenario, PerActionKeyErrors) {
  EXPECT_THAT(
      ParseError("[[export]]\nid = 1\naction = \"DescribeExportInf\"\n"),
      HasSubstr("s.toml:3:10: unknown action \"DescribeExportInf\""));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nthrottle_status = 302\n"),
              HasSubstr("s.toml:3:19: \"throttle_status\" must be between 400 "
                        "and 599"));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nsparse = \"yes\"\n"),
              HasSubstr("s.toml:3:10: \"sparse\""));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\ncreated_ago = \"-1s\"\n"),
              HasSubstr("s.toml:3:15: \"created_ago\""));
}

}  // namespace
}  // namespace sas::simulator
