#include "credentials/formats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fixture.h"
#include "util/clock.h"

namespace sas::credentials {
namespace {

using aliyun::Credentials;
using aliyun::CredentialsResult;
using ::sas::testing::ReadFixture;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

WallTime At(std::string_view iso8601) {
  WallTime t;
  EXPECT_TRUE(ParseIso8601(iso8601, &t)) << iso8601;
  return t;
}

// Every secret value of the fixtures: no error message may contain one.
const std::vector<std::string> kFixtureSecrets = {
    "CliAkSecretValue",    "CliStsSecretValue",
    "CliStsTokenValue",    "CliRoleSourceSecretValue",
    "IniDefaultSecret",    "IniRoleSourceSecret",
    "MetadataSecretValue", "MetadataSecurityTokenValue",
    "StsSecretValue",      "StsSecurityTokenValue",
    "SECRET-IN-TEST",
};

void ExpectNoSecret(const std::string& message) {
  for (const std::string& secret : kFixtureSecrets) {
    EXPECT_THAT(message, Not(HasSubstr(secret)));
  }
}

std::string CliError(std::string_view json) {
  CliConfig config;
  std::string error;
  EXPECT_FALSE(ParseCliConfig(json, "config.json", &config, &error));
  ExpectNoSecret(error);
  return error;
}

std::string IniError(std::string_view text) {
  std::vector<IniSection> sections;
  std::string error;
  EXPECT_FALSE(ParseIniFile(text, "credentials", &sections, &error));
  ExpectNoSecret(error);
  return error;
}

// ---- ParseCliConfig ----

TEST(ParseCliConfig, ReadsEveryModeOfTheCliFixture) {
  CliConfig config;
  std::string error;
  ASSERT_TRUE(ParseCliConfig(ReadFixture("credentials/cli_config.json"),
                             "config.json", &config, &error))
      << error;
  EXPECT_EQ(config.current, "ak");
  ASSERT_EQ(config.profiles.size(), 7u);

  const CliProfile* ak = config.Find("ak");
  ASSERT_NE(ak, nullptr);
  EXPECT_EQ(ak->mode, "AK");
  EXPECT_EQ(ak->access_key_id, "LTAI5tCliAkId");
  EXPECT_EQ(ak->access_key_secret, "CliAkSecretValue");
  EXPECT_EQ(ak->expired_seconds, 0);
  EXPECT_EQ(ak->line, 4);

  const CliProfile* sts = config.Find("sts");
  ASSERT_NE(sts, nullptr);
  EXPECT_EQ(sts->mode, "StsToken");
  EXPECT_EQ(sts->sts_token, "CliStsTokenValue");
  EXPECT_EQ(sts->line, 15);

  const CliProfile* role = config.Find("role");
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->mode, "RamRoleArn");
  EXPECT_EQ(role->access_key_id, "LTAI5tCliRoleSourceId");
  EXPECT_EQ(role->access_key_secret, "CliRoleSourceSecretValue");
  EXPECT_EQ(role->ram_role_arn, "acs:ram::1234567890123456:role/sas-reader");
  EXPECT_EQ(role->ram_session_name, "cli-session");
  EXPECT_EQ(role->expired_seconds, 900);
  EXPECT_EQ(role->sts_region, "cn-beijing");
  EXPECT_EQ(role->line, 23);

  const CliProfile* ecs = config.Find("ecs");
  ASSERT_NE(ecs, nullptr);
  EXPECT_EQ(ecs->mode, "EcsRamRole");
  EXPECT_EQ(ecs->ram_role_name, "EcsSasRole");

  const CliProfile* oidc = config.Find("oidc");
  ASSERT_NE(oidc, nullptr);
  EXPECT_EQ(oidc->mode, "OIDC");
  EXPECT_EQ(oidc->oidc_token_file, "/var/run/secrets/tokens/oidc-token");
  EXPECT_EQ(oidc->oidc_provider_arn,
            "acs:ram::1234567890123456:oidc-provider/ack-rrsa");
  EXPECT_EQ(oidc->ram_role_arn, "acs:ram::1234567890123456:role/rrsa-role");
  EXPECT_EQ(oidc->ram_session_name, "");  // null is absent

  const CliProfile* chained = config.Find("chained");
  ASSERT_NE(chained, nullptr);
  EXPECT_EQ(chained->mode, "ChainableRamRoleArn");
  EXPECT_EQ(chained->source_profile, "ak");
  EXPECT_EQ(chained->line, 46);

  // Modes we do not support are kept as written, for a clear error later.
  const CliProfile* sso = config.Find("sso");
  ASSERT_NE(sso, nullptr);
  EXPECT_EQ(sso->mode, "CloudSSO");

  EXPECT_EQ(config.Find("missing"), nullptr);
}

TEST(ParseCliConfig, AcceptsAConfigWithoutProfilesOrCurrent) {
  CliConfig config;
  std::string error;
  ASSERT_TRUE(ParseCliConfig("{}", "config.json", &config, &error)) << error;
  EXPECT_EQ(config.current, "");
  EXPECT_TRUE(config.profiles.empty());
}

TEST(ParseCliConfig, AcceptsAByteOrderMark) {
  CliConfig config;
  std::string error;
  ASSERT_TRUE(
      ParseCliConfig("\xEF\xBB\xBF{\"current\": \"a\",\n\"profiles\": "
                     "[\n{\"name\": \"a\", \"mode\": \"AK\"}]}",
                     "config.json", &config, &error))
      << error;
  ASSERT_EQ(config.profiles.size(), 1u);
  EXPECT_EQ(config.profiles[0].line, 3);
}

TEST(ParseCliConfig, KeysWithEscapesAreRecognised) {
  // "expired_seconds" spelled with an escape still locates the field.
  std::string error = CliError(
      "{\"profiles\": [\n{\"name\": \"p\",\n"
      "\"expired\\u005fseconds\": true}]}");
  EXPECT_EQ(error,
            "config.json:3: profile \"p\": field \"expired_seconds\": "
            "expected an integer, got boolean");
}

TEST(ParseCliConfig, ReportsTheLineOfMalformedJson) {
  std::string error =
      CliError(ReadFixture("credentials/cli_config_malformed.json"));
  EXPECT_THAT(error, StartsWith("config.json:8: invalid JSON: "));
  EXPECT_THAT(error, Not(HasSubstr("last read")));
}

TEST(ParseCliConfig, ReportsTheLineOfAMissingComma) {
  std::string error =
      CliError("{\n  \"current\": \"a\"\n  \"profiles\": []\n}");
  EXPECT_THAT(error, StartsWith("config.json:3: invalid JSON: syntax error"));
}

TEST(ParseCliConfig, ReportsTruncatedJsonAtTheLastLine) {
  std::string error = CliError("{\n  \"profiles\": [\n");
  EXPECT_THAT(error, StartsWith("config.json:3: invalid JSON: "));
}

TEST(ParseCliConfig, NeverQuotesASecretFromMalformedJson) {
  // nlohmann's message would quote the bad token ("last read: ...").
  std::string error =
      CliError("{\"profiles\": [{\"access_key_secret\": SECRET-IN-TEST}]}");
  EXPECT_THAT(error, StartsWith("config.json:1: invalid JSON: "));
  error = CliError(
      "{\"profiles\": [{\"access_key_secret\": \"SECRET-IN-TEST\\q\"}]}");
  EXPECT_THAT(error, StartsWith("config.json:1: invalid JSON: "));
}

TEST(ParseCliConfig, ReportsTheLineOfAnIllTypedField) {
  std::string error =
      CliError(ReadFixture("credentials/cli_config_ill_typed.json"));
  EXPECT_EQ(error,
            "config.json:16: profile \"role\": field \"expired_seconds\": "
            "expected an integer, got string");
}

TEST(ParseCliConfig, NamesTheProfileAndFieldOfAnIllTypedString) {
  std::string error = CliError(
      "{\"profiles\": [\n"
      "  {\"name\": \"a\"},\n"
      "  {\"name\": \"b\",\n"
      "   \"access_key_id\": \"id\",\n"
      "   \"access_key_secret\": 12345}\n"
      "]}");
  EXPECT_EQ(error,
            "config.json:5: profile \"b\": field \"access_key_secret\": "
            "expected a string, got integer");
}

TEST(ParseCliConfig, NeverQuotesTheValueOfAnIllTypedSecret) {
  std::string error = CliError(
      "{\"profiles\": [{\"name\": \"a\", \"sts_token\": "
      "[\"SECRET-IN-TEST\"]}]}");
  EXPECT_EQ(error,
            "config.json:1: profile \"a\": field \"sts_token\": expected a "
            "string, got array");
}

TEST(ParseCliConfig, ReportsAnIllTypedNameByIndex) {
  std::string error =
      CliError("{\"profiles\": [{\"name\": \"a\"},\n{\"name\": 7}]}");
  EXPECT_EQ(error,
            "config.json:2: profiles[1]: field \"name\": expected a string, "
            "got integer");
}

TEST(ParseCliConfig, RejectsBadExpiredSeconds) {
  EXPECT_EQ(CliError("{\"profiles\": [{\"name\": \"a\",\n"
                     "\"expired_seconds\": 1.5}]}"),
            "config.json:2: profile \"a\": field \"expired_seconds\": "
            "expected an integer, got non-integer number");
  EXPECT_EQ(CliError("{\"profiles\": [{\"name\": \"a\",\n"
                     "\"expired_seconds\": -1}]}"),
            "config.json:2: profile \"a\": field \"expired_seconds\": "
            "must not be negative");
  EXPECT_EQ(CliError("{\"profiles\": [{\"name\": \"a\",\n"
                     "\"expired_seconds\": 18446744073709551615}]}"),
            "config.json:2: profile \"a\": field \"expired_seconds\": "
            "integer out of range");
}

TEST(ParseCliConfig, ANumberBeyondADoubleIsAnErrorNotACrash) {
  EXPECT_EQ(CliError("{\"profiles\": [{\"name\": \"a\",\n"
                     "\"access_key_secret\": \"SECRET-IN-TEST\", "
                     "\"expired_seconds\": 1e400}]}"),
            "config.json:1: invalid JSON: a number is too large (beyond "
            "+-1.8e308)");
}

TEST(ParseCliConfig, RejectsANonObjectProfile) {
  EXPECT_EQ(CliError("{\"profiles\": [\n  {},\n  \"ak\"\n]}"),
            "config.json:3: profiles[1]: expected an object, got string");
}

TEST(ParseCliConfig, RejectsIllTypedTopLevelFields) {
  EXPECT_EQ(CliError("{\n\"profiles\": {}\n}"),
            "config.json:2: field \"profiles\": expected an array, got object");
  EXPECT_EQ(CliError("{\"profiles\": [],\n\n\"current\": 1}"),
            "config.json:3: field \"current\": expected a string, got integer");
}

TEST(ParseCliConfig, RejectsANonObjectDocument) {
  EXPECT_EQ(CliError("\n[]"),
            "config.json:2: expected a JSON object, got array");
}

TEST(ParseCliConfig, RejectsAnEmptyFile) {
  EXPECT_EQ(CliError(" \n"), "config.json:1: the file is empty");
}

TEST(ParseCliConfig, RepeatedKeysUseTheLastOne) {
  CliConfig config;
  std::string error;
  ASSERT_TRUE(
      ParseCliConfig("{\"profiles\": [{\"name\": \"old\"}],\n\"profiles\": [\n"
                     "{\"name\": \"new\"}]}",
                     "config.json", &config, &error))
      << error;
  ASSERT_EQ(config.profiles.size(), 1u);
  EXPECT_EQ(config.profiles[0].name, "new");
  EXPECT_EQ(config.profiles[0].line, 3);
}

// ---- ParseIniFile ----

TEST(ParseIniFile, ReadsTheCredentialsFixture) {
  std::vector<IniSection> sections;
  std::string error;
  ASSERT_TRUE(ParseIniFile(ReadFixture("credentials/credentials.ini"),
                           "credentials", &sections, &error))
      << error;
  ASSERT_EQ(sections.size(), 4u);

  const IniSection& def = sections[0];
  EXPECT_EQ(def.name, "default");
  EXPECT_EQ(def.line, 4);
  EXPECT_EQ(def.values.at("type"), "access_key");
  EXPECT_EQ(def.values.at("access_key_id"), "LTAI5tIniDefaultId");
  // '#' without whitespace before it is part of the value.
  EXPECT_EQ(def.values.at("access_key_secret"), "IniDefaultSecret#Value");
  EXPECT_EQ(def.lines.at("access_key_secret"), 7);

  const IniSection& ecs = sections[1];
  EXPECT_EQ(ecs.name, "ecs");
  EXPECT_EQ(ecs.values.at("role_name"), "EcsSasRole");  // unquoted
  EXPECT_EQ(ecs.values.at("enable"), "true");

  const IniSection& role = sections[2];
  EXPECT_EQ(role.name, "client_role");  // trimmed
  EXPECT_EQ(role.line, 14);
  EXPECT_EQ(role.values.at("type"), "ram_role_arn");  // key lowercased
  EXPECT_EQ(role.lines.at("type"), 15);
  EXPECT_EQ(role.values.at("access_key_secret"),
            "IniRoleSourceSecret ; quoted");
  EXPECT_EQ(role.values.at("role_arn"),
            "acs:ram::1234567890123456:role/sas-reader");
  EXPECT_EQ(role.values.at("policy"),
            "{\"Statement\":[{\"Action\":[\"yundun-sas:Describe*\"],"
            "\"Effect\":\"Allow\",\"Resource\":\"*\"}],\"Version\":\"1\"}");

  const IniSection& oidc = sections[3];
  EXPECT_EQ(oidc.name, "oidc");
  EXPECT_EQ(oidc.values.at("oidc_token_file"),
            "/var/run/secrets/tokens/oidc-token");
  EXPECT_EQ(oidc.values.at("empty"), "");
}

TEST(ParseIniFile, HandlesCrlfAndAByteOrderMark) {
  std::vector<IniSection> sections;
  std::string error;
  ASSERT_TRUE(ParseIniFile("\xEF\xBB\xBF[a]\r\nk = v\r\n  K2=\"x y\"  \r\n",
                           "credentials", &sections, &error))
      << error;
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_EQ(sections[0].values.at("k"), "v");
  EXPECT_EQ(sections[0].values.at("k2"), "x y");
  EXPECT_EQ(sections[0].lines.at("k2"), 3);
}

TEST(ParseIniFile, StripsInlineCommentsAfterWhitespace) {
  std::vector<IniSection> sections;
  std::string error;
  ASSERT_TRUE(
      ParseIniFile("[a] # comment\nx = 1 # one\ny = 2\t; two\n"
                   "z = \"3\" ; three\n",
                   "credentials", &sections, &error))
      << error;
  EXPECT_EQ(sections[0].values.at("x"), "1");
  EXPECT_EQ(sections[0].values.at("y"), "2");
  EXPECT_EQ(sections[0].values.at("z"), "3");
}

TEST(ParseIniFile, AcceptsAnEmptyFile) {
  std::vector<IniSection> sections = {IniSection{}};
  std::string error;
  ASSERT_TRUE(ParseIniFile("# nothing\n\n", "credentials", &sections, &error));
  EXPECT_TRUE(sections.empty());
}

TEST(ParseIniFile, ReportsTheLineOfAMalformedLine) {
  EXPECT_EQ(IniError(ReadFixture("credentials/credentials_malformed.ini")),
            "credentials:4: expected [section], key = value or a comment");
}

TEST(ParseIniFile, ReportsAKeyOutsideAnySection) {
  EXPECT_EQ(IniError("# top\naccess_key_secret = SECRET-IN-TEST\n[a]\n"),
            "credentials:2: key \"access_key_secret\" outside any [section]");
}

TEST(ParseIniFile, ReportsBadSectionHeaders) {
  EXPECT_EQ(IniError("[a]\nx = 1\n[b\n"),
            "credentials:3: section header without a closing ']'");
  EXPECT_EQ(IniError("[]\n"), "credentials:1: empty section name");
  EXPECT_EQ(IniError("[a] x\n"),
            "credentials:1: unexpected text after the section header");
}

TEST(ParseIniFile, ReportsBadValues) {
  EXPECT_EQ(IniError("[a]\n\naccess_key_secret = \"SECRET-IN-TEST\n"),
            "credentials:3: unterminated quoted value of key "
            "\"access_key_secret\"");
  EXPECT_EQ(IniError("[a]\naccess_key_secret = 'SECRET-IN-TEST' more\n"),
            "credentials:2: unexpected text after the quoted value of key "
            "\"access_key_secret\"");
  EXPECT_EQ(IniError("[a]\n = SECRET-IN-TEST\n"),
            "credentials:2: a value without a key before '='");
}

TEST(ParseIniFile, ReportsDuplicates) {
  EXPECT_EQ(IniError("[a]\nx = 1\n[b]\n[a]\n"),
            "credentials:4: duplicate section [a] (first at line 1)");
  EXPECT_EQ(IniError("[a]\nX = 1\nx = SECRET-IN-TEST\n"),
            "credentials:3: duplicate key \"x\" in [a] (first at line 2)");
}

// ---- ParseMetadataCredentials ----

TEST(ParseMetadataCredentials, ReadsTheMetadataAnswer) {
  CredentialsResult result = ParseMetadataCredentials(
      ReadFixture("credentials/metadata_credentials.json"));
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.MetadataKeyId");
  EXPECT_EQ(result.credentials->access_key_secret, "MetadataSecretValue");
  EXPECT_EQ(result.credentials->security_token, "MetadataSecurityTokenValue");
  EXPECT_EQ(result.credentials->expiration, At("2023-11-15T04:13:20Z"));
  EXPECT_EQ(result.error_code, "");
}

struct BadAnswer {
  std::string body;
  std::string message;
};

TEST(ParseMetadataCredentials, RejectsBadAnswersWithoutQuotingThem) {
  const std::string ok_fields =
      "\"AccessKeySecret\": \"SECRET-IN-TEST\", \"SecurityToken\": "
      "\"SECRET-IN-TEST-TOKEN\", \"Expiration\": \"2023-11-15T04:13:20Z\"";
  const std::vector<BadAnswer> cases = {
      {"SECRET-IN-TEST", "credentials answer is not valid JSON"},
      {"[\"SECRET-IN-TEST\"]",
       "credentials answer: expected a JSON object, got array"},
      {"{\"AccessKeyId\": \"id\", " + ok_fields + "}",
       "credentials answer lacks Code"},
      {"{\"Code\": \"Failed\", \"AccessKeyId\": \"id\", " + ok_fields + "}",
       "credentials answer has Code \"Failed\", not \"Success\""},
      {"{\"Code\": \"Success\", " + ok_fields + "}",
       "credentials answer lacks AccessKeyId"},
      {"{\"Code\": \"Success\", \"AccessKeyId\": 5, " + ok_fields + "}",
       "credentials answer: AccessKeyId: expected a string, got integer"},
      {"{\"Code\": \"Success\", \"AccessKeyId\": \"id\", \"AccessKeySecret\": "
       "\"\", \"SecurityToken\": \"SECRET-IN-TEST\", \"Expiration\": "
       "\"2023-11-15T04:13:20Z\"}",
       "credentials answer: AccessKeySecret is empty"},
      {"{\"Code\": \"Success\", \"AccessKeyId\": \"id\", \"AccessKeySecret\": "
       "\"SECRET-IN-TEST\", \"Expiration\": \"2023-11-15T04:13:20Z\"}",
       "credentials answer lacks SecurityToken"},
      {"{\"Code\": \"Success\", \"AccessKeyId\": \"id\", \"AccessKeySecret\": "
       "\"SECRET-IN-TEST\", \"SecurityToken\": \"SECRET-IN-TEST\"}",
       "credentials answer lacks Expiration"},
      {"{\"Code\": \"Success\", \"AccessKeyId\": \"id\", \"AccessKeySecret\": "
       "\"SECRET-IN-TEST\", \"SecurityToken\": \"SECRET-IN-TEST\", "
       "\"Expiration\": \"2023-11-15 04:13:20\"}",
       "credentials answer: Expiration is not of the form "
       "yyyy-MM-ddTHH:mm:ssZ"
       " within 1970-01-01T00:00:00Z..2199-12-31T23:59:59Z"},
      {"{\"Code\": \"Success\", \"AccessKeyId\": \"id\", \"AccessKeySecret\": "
       "\"SECRET-IN-TEST\", \"SecurityToken\": \"SECRET-IN-TEST\", "
       "\"Expiration\": \"9999-12-31T23:59:59Z\"}",
       "credentials answer: Expiration is not of the form "
       "yyyy-MM-ddTHH:mm:ssZ within "
       "1970-01-01T00:00:00Z..2199-12-31T23:59:59Z"},
  };
  for (const BadAnswer& bad : cases) {
    CredentialsResult result = ParseMetadataCredentials(bad.body);
    EXPECT_FALSE(result.credentials) << bad.body;
    EXPECT_EQ(result.error_code, "InvalidCredentials") << bad.body;
    EXPECT_EQ(result.error_message, bad.message) << bad.body;
    ExpectNoSecret(result.error_message);
  }
}

TEST(ParseMetadataCredentials, RejectsAnOversizedAnswer) {
  CredentialsResult result =
      ParseMetadataCredentials(std::string((1 << 20) + 1, ' '));
  EXPECT_EQ(result.error_code, "InvalidCredentials");
  EXPECT_THAT(result.error_message, HasSubstr("exceeds the limit"));
}

// ---- ParseStsCredentials ----

aliyun::HttpResponse Response(int status, std::string body) {
  aliyun::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

TEST(ParseStsCredentials, ReadsAnAssumeRoleAnswer) {
  CredentialsResult result = ParseStsCredentials(
      Response(200, ReadFixture("credentials/sts_assume_role.json")));
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.StsKeyId");
  EXPECT_EQ(result.credentials->access_key_secret, "StsSecretValue");
  EXPECT_EQ(result.credentials->security_token, "StsSecurityTokenValue");
  EXPECT_EQ(result.credentials->expiration, At("2023-11-14T23:13:20Z"));
}

TEST(ParseStsCredentials, ReportsTheApiErrorOfANon2xxAnswer) {
  CredentialsResult result = ParseStsCredentials(
      Response(403, ReadFixture("credentials/sts_error_no_permission.json")));
  EXPECT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "NoPermission");
  EXPECT_EQ(result.error_message,
            "HTTP 403 NoPermission: You are not authorized to do this action. "
            "You should be authorized by RAM. (RequestId "
            "7708E9C6-4C1B-4B89-B8C6-1B4F2F0C4C3D)");
}

TEST(ParseStsCredentials, ReportsANon2xxAnswerWithoutACode) {
  CredentialsResult result =
      ParseStsCredentials(Response(502, "<html>SECRET-IN-TEST</html>"));
  EXPECT_EQ(result.error_code, "http_502");
  EXPECT_EQ(result.error_message, "HTTP 502: HTTP 502 without an error code");
  ExpectNoSecret(result.error_message);
}

TEST(ParseStsCredentials, StripsTheStringToSignFromSignatureErrors) {
  CredentialsResult result = ParseStsCredentials(Response(
      400,
      "{\"Code\": \"SignatureDoesNotMatch\", \"Message\": \"Specified "
      "signature is not matched with our calculation. server string to "
      "sign is:POST&%2F&AccessKeyId%3DLTAI5tSourceId\"}"));
  EXPECT_EQ(result.error_code, "SignatureDoesNotMatch");
  EXPECT_THAT(result.error_message, Not(HasSubstr("LTAI5tSourceId")));
}

TEST(ParseStsCredentials, RejectsAnUnusable2xxAnswer) {
  const std::vector<BadAnswer> cases = {
      {"", "empty STS answer"},
      {"{\"RequestId\": \"r\"}", "STS answer lacks a Credentials object"},
      {"{\"Credentials\": \"SECRET-IN-TEST\"}",
       "STS answer lacks a Credentials object"},
      {"{\"Credentials\": {\"AccessKeyId\": \"id\", \"AccessKeySecret\": "
       "\"SECRET-IN-TEST\", \"SecurityToken\": \"SECRET-IN-TEST\", "
       "\"Expiration\": 1700000000}}",
       "STS answer's Credentials: Expiration is not of the form "
       "yyyy-MM-ddTHH:mm:ssZ"
       " within 1970-01-01T00:00:00Z..2199-12-31T23:59:59Z"},
      {"{\"Credentials\": {\"AccessKeyId\": \"id\", \"AccessKeySecret\": "
       "[\"SECRET-IN-TEST\"], \"SecurityToken\": \"t\", "
       "\"Expiration\": \"2023-11-14T23:13:20Z\"}}",
       "STS answer's Credentials: AccessKeySecret: expected a string, got "
       "array"},
  };
  for (const BadAnswer& bad : cases) {
    CredentialsResult result = ParseStsCredentials(Response(200, bad.body));
    EXPECT_FALSE(result.credentials) << bad.body;
    EXPECT_EQ(result.error_code, "InvalidCredentials") << bad.body;
    EXPECT_EQ(result.error_message, bad.message) << bad.body;
    ExpectNoSecret(result.error_message);
  }
}

TEST(ParseCliConfig, ReadsTheOfficialLibrariesExtraFields) {
  CliConfig config;
  std::string error;
  ASSERT_TRUE(ParseCliConfig(R"({"profiles": [{"name": "r",
    "mode": "RamRoleArn", "sts_region": "cn-beijing", "enable_vpc": true,
    "policy": "{}", "external_id": "ext", "process_command": "a b",
    "credentials_uri": "http://h/c"}]})",
                             "cli.json", &config, &error))
      << error;
  const CliProfile& profile = config.profiles[0];
  EXPECT_EQ(profile.sts_region, "cn-beijing");
  EXPECT_TRUE(profile.enable_vpc);
  EXPECT_EQ(profile.policy, "{}");
  EXPECT_EQ(profile.external_id, "ext");
  EXPECT_EQ(profile.process_command, "a b");
  EXPECT_EQ(profile.credentials_uri, "http://h/c");

  EXPECT_FALSE(ParseCliConfig(
      "{\"profiles\": [{\"name\": \"r\",\n \"enable_vpc\": \"yes\"}]}",
      "cli.json", &config, &error));
  EXPECT_EQ(error,
            "cli.json:2: profile \"r\": field \"enable_vpc\": expected a "
            "boolean, got string");
}

TEST(ParseExternalCredentials, ReadsAkAndStsTokenAnswers) {
  CredentialsResult result = ParseExternalCredentials(
      R"({"mode": "AK", "access_key_id": "LTAI", "access_key_secret": "s"})");
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "LTAI");
  EXPECT_EQ(result.credentials->access_key_secret, "s");
  EXPECT_EQ(result.credentials->security_token, "");
  EXPECT_FALSE(result.credentials->expiration);

  result = ParseExternalCredentials(
      R"({"mode": "ststoken", "access_key_id": "STS.x",
          "access_key_secret": "s", "sts_token": "t",
          "expiration": "2030-01-02T03:04:05Z"})");
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->security_token, "t");
  ASSERT_TRUE(result.credentials->expiration);
}

TEST(ParseExternalCredentials, RefusesBadAnswersWithoutQuotingThem) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json secret1", "the command's output is not JSON"},
      {"[\"secret1\"]", "the command's output is not a JSON object but array"},
      {R"({"access_key_id": "a", "access_key_secret": "secret1"})",
       "the command's output lacks \"mode\" (\"AK\" or \"StsToken\")"},
      {R"({"mode": "RamRoleArn", "access_key_secret": "secret1"})",
       "the command's output: mode is neither \"AK\" nor \"StsToken\""},
      {R"({"mode": "AK", "access_key_secret": "secret1"})",
       "the command's output lacks access_key_id or access_key_secret"},
      {R"({"mode": "StsToken", "access_key_id": "a",
           "access_key_secret": "secret1"})",
       "the command's output: mode StsToken lacks sts_token"},
      {R"({"mode": "AK", "access_key_id": 1, "access_key_secret": "secret1"})",
       "the command's output: access_key_id: expected a string, got integer"},
      {R"({"mode": "AK", "access_key_id": "a", "access_key_secret": "secret1",
           "expiration": "tomorrow"})",
       "the command's output: expiration is not of the form"},
  };
  for (const auto& [output, expected] : cases) {
    CredentialsResult result = ParseExternalCredentials(output);
    EXPECT_FALSE(result.credentials) << output;
    EXPECT_EQ(result.error_code, "InvalidCredentials");
    EXPECT_THAT(result.error_message, HasSubstr(expected)) << output;
    EXPECT_THAT(result.error_message, Not(HasSubstr("secret1")));
  }
}

}  // namespace
}  // namespace sas::credentials
