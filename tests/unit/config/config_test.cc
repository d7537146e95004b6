#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sas::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kPath[] = "c.toml";
constexpr char kSecret[] = "s3cr3t-VALUE-do-not-leak";
constexpr char kToken[] = "sts-TOKEN-do-not-leak";

// A valid account (lines 1-6 when first) and a valid task (3 lines).
constexpr char kAccount[] = R"([[account]]
name = "prod"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "LTAIexampleid"
access_key_secret_env = "PROD_SECRET"
)";
constexpr char kTask[] = R"([[task]]
account = "prod"
export_id = 131231
)";
constexpr char kTaskForA[] = R"([[task]]
account = "a"
export_id = 1
)";

std::vector<std::string> Messages(const LoadResult& result) {
  std::vector<std::string> out;
  for (const Diagnostic& d : result.diagnostics) out.push_back(d.ToString());
  return out;
}

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() { env_.Set("PROD_SECRET", kSecret); }

  LoadResult Parse(std::string_view text) {
    return ParseConfig(text, kPath, env_, files_);
  }
  // The diagnostics of a configuration expected to fail.
  std::vector<std::string> Errors(std::string_view text) {
    LoadResult result = Parse(text);
    EXPECT_FALSE(result.ok());
    return Messages(result);
  }
  // The configuration of a text expected to load without any diagnostic.
  Config Load(std::string_view text) {
    LoadResult result = Parse(text);
    EXPECT_TRUE(result.ok());
    EXPECT_THAT(Messages(result), IsEmpty());
    return result.config.value_or(Config{});
  }

  MapEnvironment env_;
  MemoryFileSystem files_;
};

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

// ---- Loading and defaults ------------------------------------------------

TEST_F(ConfigTest, MinimalConfigGetsDocumentedDefaults) {
  Config config = Load(Cat({kAccount, kTask}));

  EXPECT_EQ(config.exporter.poll_interval, Millis(60'000));
  EXPECT_EQ(config.exporter.concurrency, 4);
  EXPECT_EQ(config.exporter.request_timeout, Millis(10'000));
  EXPECT_EQ(config.exporter.connect_timeout, Millis(5'000));
  EXPECT_EQ(config.exporter.max_retries, 2);
  EXPECT_EQ(config.exporter.finished_retention, Millis(3'600'000));

  ASSERT_EQ(config.accounts.size(), 1u);
  const AccountConfig& account = config.accounts[0];
  EXPECT_EQ(account.name, "prod");
  EXPECT_EQ(account.region, "cn-hangzhou");
  EXPECT_EQ(account.endpoint,
            (aliyun::Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443}));
  EXPECT_EQ(account.signature_version, aliyun::SignatureVersion::kV3);
  EXPECT_EQ(account.max_requests_per_second, 5);
  EXPECT_EQ(account.ca_file, "");
  EXPECT_EQ(account.position.file, "c.toml");
  EXPECT_EQ(account.position.line, 1);
  EXPECT_EQ(account.position.column, 1);
  EXPECT_EQ(account.credentials.type, "access_key");
  EXPECT_FALSE(account.credentials.from_environment);
  EXPECT_EQ(account.credentials.position.line, 4);
  EXPECT_EQ(account.credentials.static_credentials.access_key_id,
            "LTAIexampleid");
  EXPECT_EQ(account.credentials.static_credentials.access_key_secret, kSecret);
  EXPECT_EQ(account.credentials.static_credentials.security_token, "");
  EXPECT_EQ(account.credentials.static_credentials.expiration, std::nullopt);

  ASSERT_EQ(config.tasks.size(), 1u);
  const TaskConfig& task = config.tasks[0];
  EXPECT_EQ(task.account, "prod");
  EXPECT_EQ(task.export_id, 131231);
  EXPECT_EQ(task.rd_account_id, std::nullopt);
  EXPECT_EQ(task.name, "131231");
  EXPECT_EQ(task.position.line, 7);
}

TEST_F(ConfigTest, LoadsEveryKey) {
  files_.Add("/etc/ssl/extra.pem", "-----BEGIN CERTIFICATE-----\n");
  Config config = Load(R"([exporter]
poll_interval = "1m30s"
concurrency = 16
request_timeout = "2.5s"
connect_timeout = "500ms"
max_retries = 0
finished_retention = "0s"

[[account]]
name = "intl.prod-2_a"
region = "ap-southeast-1"
endpoint = "http://127.0.0.1:8080"
signature_version = "v1"
max_requests_per_second = 0.5
ca_file = "/etc/ssl/extra.pem"
[account.credentials]
type = "access_key"
access_key_id = "LTAIexampleid"
access_key_secret = "literal-secret"
security_token = "literal-token"

[[task]]
account = "intl.prod-2_a"
export_id = 7
rd_account_id = 16670360956
name = "nightly asset export"
)");
  EXPECT_EQ(config.exporter.poll_interval, Millis(90'000));
  EXPECT_EQ(config.exporter.concurrency, 16);
  EXPECT_EQ(config.exporter.request_timeout, Millis(2'500));
  EXPECT_EQ(config.exporter.connect_timeout, Millis(500));
  EXPECT_EQ(config.exporter.max_retries, 0);
  EXPECT_EQ(config.exporter.finished_retention, Millis(0));

  ASSERT_EQ(config.accounts.size(), 1u);
  const AccountConfig& account = config.accounts[0];
  EXPECT_EQ(account.name, "intl.prod-2_a");
  EXPECT_EQ(account.region, "ap-southeast-1");
  EXPECT_EQ(account.endpoint, (aliyun::Endpoint{"http", "127.0.0.1", 8080}));
  EXPECT_EQ(account.signature_version, aliyun::SignatureVersion::kV1);
  EXPECT_EQ(account.max_requests_per_second, 0.5);
  EXPECT_EQ(account.ca_file, "/etc/ssl/extra.pem");
  EXPECT_EQ(account.credentials.static_credentials.access_key_secret,
            "literal-secret");
  EXPECT_EQ(account.credentials.static_credentials.security_token,
            "literal-token");

  ASSERT_EQ(config.tasks.size(), 1u);
  EXPECT_EQ(config.tasks[0].export_id, 7);
  EXPECT_EQ(config.tasks[0].rd_account_id, 16670360956);
  EXPECT_EQ(config.tasks[0].name, "nightly asset export");
}

TEST_F(ConfigTest, RegionChoosesEndpointFromSdkMap) {
  Config config = Load(Cat({R"([[account]]
name = "intl"
region = "eu-central-1"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                            kAccount, kTask}));
  ASSERT_EQ(config.accounts.size(), 2u);
  EXPECT_EQ(config.accounts[0].endpoint.Url(),
            "https://tds.ap-southeast-1.aliyuncs.com");
  EXPECT_EQ(config.accounts[1].endpoint.Url(),
            "https://tds.cn-shanghai.aliyuncs.com");
}

TEST_F(ConfigTest, EndpointAloneNeedsNoRegion) {
  Config config = Load(Cat({R"([[account]]
name = "prod"
endpoint = "https://tds.cn-shanghai.aliyuncs.com"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                            kTask}));
  EXPECT_EQ(config.accounts[0].region, "");
  EXPECT_EQ(config.accounts[0].endpoint,
            (aliyun::Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443}));
}

TEST_F(ConfigTest, AcceptsIntegerAndFloatRates) {
  Config config = Load(Cat({R"([[account]]
name = "a"
region = "cn-hangzhou"
max_requests_per_second = 10000
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
[[account]]
name = "b"
region = "cn-hangzhou"
max_requests_per_second = 2.5
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                            kTaskForA}));
  EXPECT_EQ(config.accounts[0].max_requests_per_second, 10000);
  EXPECT_EQ(config.accounts[1].max_requests_per_second, 2.5);
}

TEST_F(ConfigTest, AcceptsInlineCredentialsTable) {
  Config config = Load(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
credentials = { access_key_id = "id", access_key_secret_env = "PROD_SECRET" }
)",
                            kTask}));
  EXPECT_EQ(config.accounts[0].credentials.static_credentials.access_key_secret,
            kSecret);
  EXPECT_EQ(config.accounts[0].credentials.position.line, 4);
  EXPECT_EQ(config.accounts[0].credentials.position.column, 15);
}

// ---- Syntax and unknown keys ---------------------------------------------

TEST_F(ConfigTest, ReportsTomlSyntaxErrorWithPosition) {
  EXPECT_THAT(Errors("[exporter]\npoll_interval = \"60s\"\nconcurrency = \n"),
              ElementsAre("c.toml:3:15: invalid TOML while parsing key-value "
                          "pair: expected value, saw '\\n'"));
  EXPECT_THAT(Errors("a = 1\na = 2\n"),
              ElementsAre("c.toml:2:5: invalid TOML while parsing key-value "
                          "pair: cannot redefine existing integer 'a'"));
}

TEST_F(ConfigTest, SyntaxErrorOnSecretLineIsRedacted) {
  std::vector<std::string> errors = Errors(
      Cat({kAccount, "access_key_secret = 123456789012345678901234567890\n"}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "c.toml:7:51: invalid TOML while parsing decimal integer: "
            "'<redacted>' is not representable in 64 bits");
}

TEST_F(ConfigTest, SyntaxErrorInInlineCredentialsIsRedacted) {
  std::vector<std::string> errors = Errors(
      "[[account]]\ncredentials = { access_key_secret = 1234567890123456789012 "
      "}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "c.toml:2:59: invalid TOML while parsing decimal integer: "
            "'<redacted>' is not representable in 64 bits");
}

TEST_F(ConfigTest, RejectsUnknownKeyWithSuggestion) {
  EXPECT_THAT(
      Errors(Cat({"[exporter]\npol_interval = \"30s\"\n", kAccount, R"(
acces_key_secret_file = "/x"
[[task]]
acount = "prod"
export_id = 1
[[tasks]]
)"})),
      ElementsAre(
          "c.toml:2:1: exporter.pol_interval: unknown key; did you mean "
          "\"poll_interval\"?",
          "c.toml:10:1: account[1].credentials.acces_key_secret_file: "
          "unknown key; did you mean \"access_key_secret_file\"?",
          "c.toml:11:1: task[1].account: required key is missing; name one "
          "of the defined accounts: \"prod\"",
          "c.toml:12:1: task[1].acount: unknown key; did you mean "
          "\"account\"?",
          "c.toml:14:3: tasks: unknown key; did you mean \"task\"?"));
}

TEST_F(ConfigTest, RejectsUnknownAccountKeyWithSuggestion) {
  EXPECT_THAT(Errors(Cat({kAccount, kTask, R"([[account]]
name = "b"
regoin = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)"})),
              ElementsAre("c.toml:10:1: account[2]: needs \"region\" or "
                          "\"endpoint\"; e.g. region = \"cn-hangzhou\" or "
                          "endpoint = \"https://tds.cn-shanghai.aliyuncs.com\"",
                          "c.toml:12:1: account[2].regoin: unknown key; did "
                          "you mean \"region\"?"));
}

TEST_F(ConfigTest, UnknownKeyWithoutSuggestionListsValidKeys) {
  EXPECT_THAT(
      Errors(Cat({"[exporter]\nverbosity = 3\n", kAccount, kTask})),
      ElementsAre("c.toml:2:1: exporter.verbosity: unknown key; valid keys "
                  "here: \"poll_interval\", \"concurrency\", "
                  "\"request_timeout\", \"connect_timeout\", \"max_retries\", "
                  "\"finished_retention\""));
}

// ---- [exporter] ------------------------------------------------------------

TEST_F(ConfigTest, IntegerDurationIsATypeErrorSuggestingAUnit) {
  EXPECT_THAT(
      Errors(Cat({"[exporter]\npoll_interval = 60\n", kAccount, kTask})),
      ElementsAre("c.toml:2:17: exporter.poll_interval: expected a "
                  "duration string, found integer 60; write the unit "
                  "too, e.g. \"60s\""));
}

TEST_F(ConfigTest, RejectsMalformedDurations) {
  EXPECT_THAT(
      Errors(Cat({R"([exporter]
request_timeout = "10 s"
connect_timeout = 1.5
finished_retention = "-1h"
)",
                  kAccount, kTask})),
      ElementsAre(
          "c.toml:2:19: exporter.request_timeout: invalid duration \"10 "
          "s\"; write numbers with units ms, s, m or h, e.g. \"500ms\", "
          "\"30s\", \"5m\", \"1h30m\"",
          "c.toml:3:19: exporter.connect_timeout: expected a duration string "
          "such as \"30s\", found float",
          "c.toml:4:22: exporter.finished_retention: invalid duration "
          "\"-1h\"; write numbers with units ms, s, m or h, e.g. \"500ms\", "
          "\"30s\", \"5m\", \"1h30m\""));
}

TEST_F(ConfigTest, EnforcesExporterBounds) {
  EXPECT_THAT(
      Errors(Cat({R"([exporter]
poll_interval = "99ms"
concurrency = 0
request_timeout = "0s"
connect_timeout = "0ms"
max_retries = 11
)",
                  kAccount, kTask})),
      ElementsAre(
          "c.toml:2:17: exporter.poll_interval: must be at least 100ms, got "
          "\"99ms\"",
          "c.toml:3:15: exporter.concurrency: must be between 1 and 256, got "
          "0",
          "c.toml:4:19: exporter.request_timeout: must be longer than 0s, got "
          "\"0s\"; e.g. \"10s\"",
          "c.toml:5:19: exporter.connect_timeout: must be longer than 0s, got "
          "\"0s\"; e.g. \"10s\"",
          "c.toml:6:15: exporter.max_retries: must be between 0 and 10, got "
          "11"));
  EXPECT_THAT(Errors(Cat({"[exporter]\nconcurrency = 257\nmax_retries = -1\n",
                          kAccount, kTask})),
              ElementsAre("c.toml:2:15: exporter.concurrency: must be between "
                          "1 and 256, got 257",
                          "c.toml:3:15: exporter.max_retries: must be between "
                          "0 and 10, got -1"));
}

TEST_F(ConfigTest, AcceptsExporterBoundaryValues) {
  Config config = Load(Cat({R"([exporter]
poll_interval = "100ms"
concurrency = 256
request_timeout = "1ms"
max_retries = 10
)",
                            kAccount, kTask}));
  EXPECT_EQ(config.exporter.poll_interval, Millis(100));
  EXPECT_EQ(config.exporter.concurrency, 256);
  EXPECT_EQ(config.exporter.request_timeout, Millis(1));
  EXPECT_EQ(config.exporter.max_retries, 10);
}

TEST_F(ConfigTest, WrongTypesNameExpectedAndFoundType) {
  EXPECT_THAT(
      Errors(Cat({R"([exporter]
concurrency = "4"
max_retries = 2.0
)",
                  kAccount, R"([[task]]
account = "prod"
export_id = "131231"
rd_account_id = true
name = 5
)"})),
      ElementsAre(
          "c.toml:2:15: exporter.concurrency: expected integer, found "
          "string; write it without quotes",
          "c.toml:3:15: exporter.max_retries: expected integer, found float",
          "c.toml:12:13: task[1].export_id: expected integer, found string; "
          "write it without quotes",
          "c.toml:13:17: task[1].rd_account_id: expected integer, found "
          "boolean",
          "c.toml:14:8: task[1].name: expected string, found integer"));
}

TEST_F(ConfigTest, ExporterMustBeATable) {
  EXPECT_THAT(Errors(Cat({"exporter = 1\n", kAccount, kTask})),
              ElementsAre("c.toml:1:12: exporter: expected table, found "
                          "integer"));
}

// ---- [[account]] -----------------------------------------------------------

TEST_F(ConfigTest, NoAccountIsAnError) {
  EXPECT_THAT(Errors("[exporter]\n"),
              ElementsAre("c.toml:1:1: no [[account]] is defined; add at "
                          "least one [[account]] table with a name, a region "
                          "and credentials",
                          "c.toml:1:1: warning: no [[task]] is defined; the "
                          "exporter has nothing to poll"));
  EXPECT_EQ(Errors("account = []\n")[0],
            "c.toml:1:1: no [[account]] is defined; add at least one "
            "[[account]] table with a name, a region and credentials");
}

TEST_F(ConfigTest, NoTaskIsOnlyAWarning) {
  LoadResult result = Parse(kAccount);
  EXPECT_TRUE(result.ok());
  EXPECT_THAT(Messages(result),
              ElementsAre("c.toml:1:1: warning: no [[task]] is defined; the "
                          "exporter has nothing to poll"));
  EXPECT_EQ(result.diagnostics[0].severity, Diagnostic::Severity::kWarning);
}

TEST_F(ConfigTest, AccountWrittenAsSingleTableSuggestsArrayOfTables) {
  EXPECT_THAT(Errors(Cat({"[account]\nname = \"prod\"\n", kTask})),
              ElementsAre("c.toml:1:1: account: expected an array of tables, "
                          "found table; write [[account]] instead of "
                          "[account]",
                          "c.toml:4:11: task[1].account: no account named "
                          "\"prod\" (no [[account]] is defined)"));
  EXPECT_THAT(Errors("account = [\"prod\"]\n"),
              ElementsAre("c.toml:1:1: warning: no [[task]] is defined; the "
                          "exporter has nothing to poll",
                          "c.toml:1:12: account[1]: expected table, found "
                          "string"));
}

TEST_F(ConfigTest, AccountNeedsAName) {
  EXPECT_THAT(Errors(R"([[account]]
region = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)")[0],
              "c.toml:1:1: account[1].name: required key is missing; give the "
              "account a unique name, e.g. name = \"prod\"");
}

TEST_F(ConfigTest, RejectsInvalidAccountNames) {
  for (const char* name : {"", "prod east", "prod/1", "\\u00e9t\\u00e9"}) {
    std::string text = Cat({"[[account]]\nname = \"", name, R"("
region = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                            kTask});
    std::vector<std::string> errors = Errors(text);
    ASSERT_FALSE(errors.empty()) << name;
    EXPECT_THAT(errors[0],
                ::testing::MatchesRegex(
                    "c.toml:2:8: account\\[1\\].name: invalid account name "
                    "\".*\"; use 1 to 64 characters of A-Z, a-z, 0-9, \"_\", "
                    "\".\" and \"-\""));
  }
  std::string long_name(65, 'a');
  EXPECT_EQ(Errors(Cat({"[[account]]\nname = \"", long_name, R"("
region = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                        kTask}))[0],
            "c.toml:2:8: account[1].name: invalid account name \"" + long_name +
                "\"; use 1 to 64 characters of A-Z, a-z, 0-9, \"_\", \".\" "
                "and \"-\"");
}

TEST_F(ConfigTest, RejectsDuplicateAccountNameNamingTheFirstLine) {
  EXPECT_THAT(Errors(Cat({kAccount, kTask, kAccount})),
              ElementsAre("c.toml:11:8: account[2].name: duplicate account "
                          "name \"prod\"; first defined at line 2"));
}

TEST_F(ConfigTest, RejectsBadRegionEndpointAndSignatureVersion) {
  EXPECT_THAT(
      Errors(Cat({R"([[account]]
name = "prod"
region = "CN_Hangzhou"
endpoint = "https://tds.cn-shanghai.aliyuncs.com/path"
signature_version = "v2"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                  kTask})),
      ElementsAre(
          "c.toml:3:10: account[1].region: invalid region id "
          "\"CN_Hangzhou\"; expected a region id such as \"cn-hangzhou\" or "
          "\"ap-southeast-1\"",
          "c.toml:4:12: account[1].endpoint: endpoint must not contain a "
          "path (give scheme, host and port only, e.g. "
          "https://tds.cn-shanghai.aliyuncs.com)",
          "c.toml:5:21: account[1].signature_version: invalid value \"v2\"; "
          "expected \"v3\" (ACS3-HMAC-SHA256) or \"v1\" (HMAC-SHA1)"));
}

TEST_F(ConfigTest, EndpointErrorNeverEchoesUrlCredentials) {
  std::vector<std::string> errors = Errors(Cat({R"([[account]]
name = "prod"
endpoint = "https://user:hunter2@tds.cn-shanghai.aliyuncs.com"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                                                kTask}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith(
                             "c.toml:3:12: account[1].endpoint: endpoint "
                             "must not contain credentials"));
  EXPECT_THAT(errors[0], ::testing::Not(::testing::HasSubstr("hunter2")));
}

TEST_F(ConfigTest, EnforcesRateBounds) {
  for (const char* rate :
       {"0", "-1", "0.0", "10000.5", "20000", "nan", "inf"}) {
    std::vector<std::string> errors =
        Errors(Cat({kAccount,
                    "[[account]]\nname = \"b\"\nregion = "
                    "\"cn-hangzhou\"\nmax_requests_per_second = ",
                    rate, "\n"}));
    EXPECT_THAT(errors,
                ::testing::Contains(::testing::StartsWith(
                    "c.toml:10:27: account[2].max_requests_per_second: must "
                    "be greater than 0 and at most 10000, got ")))
        << rate;
  }
}

TEST_F(ConfigTest, RateTypeError) {
  EXPECT_THAT(Errors(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
max_requests_per_second = "5"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)",
                          kTask})),
              ElementsAre("c.toml:4:27: account[1].max_requests_per_second: "
                          "expected a number, found string"));
}

TEST_F(ConfigTest, CaFileMustBeReadable) {
  files_.Add("/etc/ssl/extra.pem", "pem");
  std::string account = R"([[account]]
name = "prod"
region = "cn-hangzhou"
ca_file = "%s"
[account.credentials]
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)";
  auto with = [&](std::string path) {
    std::string text = account;
    text.replace(text.find("%s"), 2, path);
    return text + kTask;
  };
  EXPECT_EQ(Load(with("/etc/ssl/extra.pem")).accounts[0].ca_file,
            "/etc/ssl/extra.pem");
  EXPECT_THAT(Errors(with("/etc/ssl/missing.pem")),
              ElementsAre("c.toml:4:11: account[1].ca_file: cannot read "
                          "\"/etc/ssl/missing.pem\": No such file or "
                          "directory"));
  EXPECT_THAT(Errors(with("")),
              ElementsAre("c.toml:4:11: account[1].ca_file: must name a "
                          "file; remove the key to trust only the system "
                          "certificate store"));
}

// ---- [account.credentials] -----------------------------------------------

TEST_F(ConfigTest, ReadsSecretsFromEnvironmentAndFiles) {
  env_.Set("AK_ID", "LTAIfromenv");
  files_.Add("/run/secrets/ak", "\n  file-secret  \n");
  files_.Add("/run/secrets/sts", "file-token\n");
  Config config = Load(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
[account.credentials]
access_key_id_env = "AK_ID"
access_key_secret_file = "/run/secrets/ak"
security_token_file = "/run/secrets/sts"
)",
                            kTask}));
  const credentials::Credentials& keys =
      config.accounts[0].credentials.static_credentials;
  EXPECT_EQ(keys.access_key_id, "LTAIfromenv");
  EXPECT_EQ(keys.access_key_secret, "file-secret");
  EXPECT_EQ(keys.security_token, "file-token");
}

TEST_F(ConfigTest, ReportsUnsetOrEmptyVariableAndUnreadableOrEmptyFile) {
  env_.Set("EMPTY", "");
  files_.Add("/run/blank", "  \n");
  EXPECT_THAT(
      Errors(Cat({R"([[account]]
name = "a"
region = "cn-hangzhou"
[account.credentials]
access_key_id_env = "UNSET_ID"
access_key_secret_env = "EMPTY"
security_token_file = "/run/missing"
[[account]]
name = "b"
region = "cn-hangzhou"
[account.credentials]
access_key_id_file = "/run/blank"
access_key_secret = ""
)",
                  kTaskForA})),
      ElementsAre(
          "c.toml:5:21: account[1].credentials.access_key_id_env: "
          "environment variable UNSET_ID is not set",
          "c.toml:6:25: account[1].credentials.access_key_secret_env: "
          "environment variable EMPTY is empty",
          "c.toml:7:23: account[1].credentials.security_token_file: cannot "
          "read \"/run/missing\": No such file or directory",
          "c.toml:12:22: account[2].credentials.access_key_id_file: file "
          "\"/run/blank\" is empty",
          "c.toml:13:21: account[2].credentials.access_key_secret: must not "
          "be empty"));
}

TEST_F(ConfigTest, RejectsMultiLineSecretFile) {
  files_.Add("/run/two-lines", std::string(kSecret) + "\n" + kToken + "\n");
  EXPECT_THAT(Errors(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
access_key_secret_file = "/run/two-lines"
)",
                          kTask})),
              ElementsAre("c.toml:6:26: account[1].credentials."
                          "access_key_secret_file: file \"/run/two-lines\" "
                          "contains more than one line or a control "
                          "character"));
}

TEST_F(ConfigTest, RejectsTwoSpellingsOfOneSecret) {
  EXPECT_THAT(
      Errors(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
access_key_secret = "literal"
access_key_secret_env = "PROD_SECRET"
access_key_secret_file = "/run/secret"
)",
                  kTask})),
      ElementsAre(
          "c.toml:7:25: account[1].credentials.access_key_secret_env: "
          "conflicts with access_key_secret at line 6; set only one of "
          "access_key_secret, access_key_secret_env or access_key_secret_file",
          "c.toml:8:26: account[1].credentials.access_key_secret_file: "
          "conflicts with access_key_secret at line 6; set only one of "
          "access_key_secret, access_key_secret_env or "
          "access_key_secret_file"));
}

TEST_F(ConfigTest, RequiresAccessKeyIdAndSecret) {
  EXPECT_THAT(
      Errors(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
[account.credentials]
type = "access_key"
)",
                  kTask})),
      ElementsAre("c.toml:4:1: account[1].credentials.access_key_id: required "
                  "key is missing; set one of access_key_id, "
                  "access_key_id_env or access_key_id_file",
                  "c.toml:4:1: account[1].credentials.access_key_secret: "
                  "required key is missing; set one of access_key_secret, "
                  "access_key_secret_env or access_key_secret_file"));
}

TEST_F(ConfigTest, SecretsMustBeStrings) {
  EXPECT_THAT(Errors(Cat({kAccount, "security_token = 42\n", kTask})),
              ElementsAre("c.toml:7:18: account[1].credentials.security_token: "
                          "expected string, found integer"));
}

TEST_F(ConfigTest, RejectsUnknownCredentialsTypeListingValidTypes) {
  EXPECT_THAT(Errors(Cat({R"([[account]]
name = "a"
region = "cn-hangzhou"
[account.credentials]
type = "acces_key"
[[account]]
name = "b"
region = "cn-hangzhou"
[account.credentials]
type = "ram_role_arn"
role_arn = "acs:ram::1:role/x"
)",
                          kTaskForA})),
              ElementsAre("c.toml:5:8: account[1].credentials.type: unknown "
                          "credentials type \"acces_key\"; did you mean "
                          "\"access_key\"? (valid types: \"access_key\")",
                          "c.toml:10:8: account[2].credentials.type: unknown "
                          "credentials type \"ram_role_arn\" (valid types: "
                          "\"access_key\")"));
}

TEST_F(ConfigTest, CredentialsMustBeATable) {
  EXPECT_THAT(Errors(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
credentials = "LTAI:secret"
)",
                          kTask})),
              ElementsAre("c.toml:4:15: account[1].credentials: expected "
                          "table, found string"));
}

TEST_F(ConfigTest, WithoutCredentialsTableReadsStandardVariables) {
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", kSecret);
  env_.Set("ALIBABA_CLOUD_SECURITY_TOKEN", kToken);
  Config config = Load(
      Cat({"[[account]]\nname = \"prod\"\nregion = \"cn-hangzhou\"\n", kTask}));
  const CredentialsConfig& credentials = config.accounts[0].credentials;
  EXPECT_TRUE(credentials.from_environment);
  EXPECT_EQ(credentials.type, "access_key");
  EXPECT_EQ(credentials.position.line, 1);
  EXPECT_EQ(credentials.static_credentials.access_key_id, "LTAIenv");
  EXPECT_EQ(credentials.static_credentials.access_key_secret, kSecret);
  EXPECT_EQ(credentials.static_credentials.security_token, kToken);
}

TEST_F(ConfigTest, StandardVariablesTokenIsOptional) {
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", kSecret);
  Config config = Load(
      Cat({"[[account]]\nname = \"prod\"\nregion = \"cn-hangzhou\"\n", kTask}));
  EXPECT_EQ(config.accounts[0].credentials.static_credentials.security_token,
            "");
}

TEST_F(ConfigTest, WithoutCredentialsTableMissingVariablesAreNamed) {
  const std::string account =
      "[[account]]\nname = \"prod\"\nregion = \"cn-hangzhou\"\n";
  EXPECT_THAT(
      Errors(Cat({account, kTask})),
      ElementsAre("c.toml:1:1: account[1]: no [account.credentials] table, "
                  "and ALIBABA_CLOUD_ACCESS_KEY_ID and "
                  "ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set in the "
                  "environment; set ALIBABA_CLOUD_ACCESS_KEY_ID and "
                  "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or add an "
                  "[account.credentials] table with access_key_id and "
                  "access_key_secret (or their *_env / *_file forms)"));
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "");
  EXPECT_THAT(
      Errors(Cat({account, kTask})),
      ElementsAre("c.toml:1:1: account[1]: no [account.credentials] table, "
                  "and ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set in the "
                  "environment; set ALIBABA_CLOUD_ACCESS_KEY_ID and "
                  "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or add an "
                  "[account.credentials] table with access_key_id and "
                  "access_key_secret (or their *_env / *_file forms)"));
}

TEST_F(ConfigTest, WarnsAboutLiteralSecretsInFileOthersCanRead) {
  files_.Add(kPath, "", /*readable_by_others=*/true);
  LoadResult result = Parse(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "LTAIliteral"
access_key_secret = "literal-secret"
security_token = "literal-token"
)",
                                 kTask}));
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(
      Messages(result),
      ElementsAre(
          "c.toml:6:21: warning: account[1].credentials.access_key_secret: a "
          "secret is written in a configuration file that other users can "
          "read; run chmod 600 c.toml, or use access_key_secret_env or "
          "access_key_secret_file instead",
          "c.toml:7:18: warning: account[1].credentials.security_token: a "
          "secret is written in a configuration file that other users can "
          "read; run chmod 600 c.toml, or use security_token_env or "
          "security_token_file instead"));
  EXPECT_EQ(result.diagnostics[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(result.config->accounts[0]
                .credentials.static_credentials.access_key_secret,
            "literal-secret");
}

TEST_F(ConfigTest, NoWarningForPrivateFileOrIndirectSecrets) {
  files_.Add(kPath, "", /*readable_by_others=*/false);
  Load(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "LTAIliteral"
access_key_secret = "literal-secret"
)",
            kTask}));
  files_.Add(kPath, "", /*readable_by_others=*/true);
  Load(Cat({kAccount, kTask}));
}

TEST_F(ConfigTest, NoDiagnosticContainsASecret) {
  env_.Set("TOKEN", kToken);
  env_.Set("MULTILINE", std::string(kSecret) + "\n" + kToken);
  files_.Add("/run/secret", std::string(kSecret) + "\n");
  files_.Add("/run/two-lines", std::string(kSecret) + "\n" + kToken + "\n");
  files_.Add(kPath, "", /*readable_by_others=*/true);
  std::string text = Cat({R"([exporter]
poll_interval = 1
[[account]]
name = "a"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
access_key_secret = "s3cr3t-VALUE-do-not-leak"
access_key_secret_env = "PROD_SECRET"
security_token = "sts-TOKEN-do-not-leak"
[[account]]
name = "b"
region = "cn-hangzhou"
[account.credentials]
access_key_id = 17
access_key_secret_file = "/run/two-lines"
security_token_env = "MULTILINE"
[[account]]
name = "c"
region = "cn-hangzhou"
[account.credentials]
access_key_id_file = "/run/secret"
access_key_secret = "s3cr3t-VALUE-do-not-leak"
security_token = "sts-TOKEN-do-not-leak"
sekret = "s3cr3t-VALUE-do-not-leak"
[[task]]
account = "nobody"
)"});
  LoadResult result = Parse(text);
  EXPECT_FALSE(result.ok());
  EXPECT_GE(result.diagnostics.size(), 8u);
  for (const std::string& message : Messages(result)) {
    EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr(kSecret)));
    EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr(kToken)));
    EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr("do-not-leak")));
  }
}

// ---- [[task]] --------------------------------------------------------------

TEST_F(ConfigTest, TaskMustNameADefinedAccount) {
  EXPECT_THAT(Errors(Cat({kAccount, R"([[task]]
account = "prd"
export_id = 1
[[task]]
account = "staging"
export_id = 2
)"})),
              ElementsAre("c.toml:8:11: task[1].account: no account named "
                          "\"prd\"; did you mean \"prod\"? (defined accounts: "
                          "\"prod\")",
                          "c.toml:11:11: task[2].account: no account named "
                          "\"staging\" (defined accounts: \"prod\")"));
}

TEST_F(ConfigTest, TaskIdsMustBePositive) {
  EXPECT_THAT(Errors(Cat({kAccount, R"([[task]]
account = "prod"
export_id = 0
rd_account_id = -5
[[task]]
account = "prod"
)"})),
              ElementsAre("c.toml:9:13: task[1].export_id: must be a "
                          "positive integer, got 0",
                          "c.toml:10:17: task[1].rd_account_id: must be a "
                          "positive integer, got -5",
                          "c.toml:11:1: task[2].export_id: required key is "
                          "missing; set the id of the export task, e.g. "
                          "export_id = 131231"));
}

TEST_F(ConfigTest, TaskNameMustNotBeEmpty) {
  EXPECT_THAT(Errors(Cat({kAccount, kTask, "name = \"\"\n"})),
              ElementsAre("c.toml:10:8: task[1].name: must not be empty; "
                          "remove the key to use the export id"));
}

TEST_F(ConfigTest, RejectsDuplicateTaskNamingTheFirstLine) {
  EXPECT_THAT(Errors(Cat({kAccount, kTask, kTask, R"([[task]]
account = "prod"
export_id = 131231
rd_account_id = 5
[[task]]
account = "prod"
export_id = 131231
rd_account_id = 5
)"})),
              ElementsAre("c.toml:10:1: task[2]: duplicate task; task[1] at "
                          "line 7 already polls account \"prod\", export_id "
                          "131231",
                          "c.toml:17:1: task[4]: duplicate task; task[3] at "
                          "line 13 already polls account \"prod\", export_id "
                          "131231, rd_account_id 5"));
}

TEST_F(ConfigTest, SameExportInDifferentMemberAccountsIsNotADuplicate) {
  Config config = Load(Cat({kAccount, kTask, kTask, "rd_account_id = 1\n"}));
  ASSERT_EQ(config.tasks.size(), 2u);
  EXPECT_EQ(config.tasks[1].rd_account_id, 1);
}

// ---- Everything at once, and files -----------------------------------------

TEST_F(ConfigTest, ReportsEveryProblemInFileOrder) {
  std::string text = R"([[task]]
account = "nobody"
export_id = -1
[exporter]
poll_interval = "1s"
concurrency = 1000
[[account]]
name = "bad name"
region = "cn-hangzhou"
[account.credentials]
access_key_id = "id"
)";
  EXPECT_THAT(
      Errors(text),
      ElementsAre(
          "c.toml:2:11: task[1].account: no account named \"nobody\" (no "
          "[[account]] has a valid name)",
          "c.toml:3:13: task[1].export_id: must be a positive integer, got -1",
          "c.toml:6:15: exporter.concurrency: must be between 1 and 256, got "
          "1000",
          "c.toml:8:8: account[1].name: invalid account name \"bad name\"; "
          "use 1 to 64 characters of A-Z, a-z, 0-9, \"_\", \".\" and \"-\"",
          "c.toml:10:1: account[1].credentials.access_key_secret: required "
          "key is missing; set one of access_key_secret, "
          "access_key_secret_env or access_key_secret_file"));
}

TEST_F(ConfigTest, DiagnosticToString) {
  Diagnostic error{Diagnostic::Severity::kError, {"a.toml", 3, 7}, "bad"};
  Diagnostic warning{Diagnostic::Severity::kWarning, {"a.toml", 1, 1}, "hm"};
  Diagnostic unpositioned{
      Diagnostic::Severity::kError, {"a.toml", 0, 0}, "cannot read: x"};
  EXPECT_EQ(error.ToString(), "a.toml:3:7: bad");
  EXPECT_EQ(warning.ToString(), "a.toml:1:1: warning: hm");
  EXPECT_EQ(unpositioned.ToString(), "a.toml: cannot read: x");
}

TEST_F(ConfigTest, LoadConfigFileReportsUnreadableFile) {
  LoadResult result =
      LoadConfigFile("/etc/aliyun_sas_exporter.toml", env_, files_);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(Messages(result),
              ElementsAre("/etc/aliyun_sas_exporter.toml: cannot read: No "
                          "such file or directory"));
}

TEST_F(ConfigTest, LoadConfigFileReadsThroughFileSystem) {
  files_.Add("/etc/sas.toml", Cat({kAccount, kTask}));
  LoadResult result = LoadConfigFile("/etc/sas.toml", env_, files_);
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(Messages(result), IsEmpty());
  EXPECT_EQ(result.config->accounts[0].position.file, "/etc/sas.toml");
}

TEST_F(ConfigTest, ExampleConfigurationLoads) {
  MapEnvironment env({{"PROD_AK_SECRET", "prod-secret"},
                      {"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIintl"},
                      {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "intl-secret"}});
  std::string path = SAS_SOURCE_DIR "/config/aliyun_sas_exporter.toml";
  LoadResult result = LoadConfigFile(path, env, LocalFileSystem());
  EXPECT_THAT(Messages(result), IsEmpty());
  ASSERT_TRUE(result.ok());
  const Config& config = *result.config;
  EXPECT_EQ(config.exporter.poll_interval, Millis(60'000));
  ASSERT_EQ(config.accounts.size(), 2u);
  EXPECT_EQ(config.accounts[0].name, "prod");
  EXPECT_EQ(config.accounts[0].credentials.static_credentials.access_key_secret,
            "prod-secret");
  EXPECT_TRUE(config.accounts[1].credentials.from_environment);
  EXPECT_EQ(config.accounts[1].endpoint.Url(),
            "https://tds.ap-southeast-1.aliyuncs.com");
  EXPECT_GE(config.tasks.size(), 2u);
}

TEST_F(ConfigTest, BadFixtureReportsExpectedDiagnostics) {
  std::string dir = SAS_TESTDATA_DIR "/config/";
  FileReadResult expected = LocalFileSystem().ReadFile(dir + "bad.expected");
  ASSERT_TRUE(expected.ok) << expected.error;
  FileReadResult text = LocalFileSystem().ReadFile(dir + "bad.toml");
  ASSERT_TRUE(text.ok) << text.error;
  MapEnvironment env;
  env.Set("PROD_AK_SECRET", "prod-secret");
  LoadResult result = ParseConfig(text.content, "bad.toml", env, files_);
  EXPECT_FALSE(result.ok());
  std::string actual;
  for (const std::string& line : Messages(result)) actual += line + "\n";
  EXPECT_EQ(actual, expected.content);
}

}  // namespace
}  // namespace sas::config
