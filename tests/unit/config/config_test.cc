#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/map_environment.h"
#include "support/memory_file_system.h"
#include "util/strings.h"

namespace sas::config {
namespace {

using ::sas::testing::MapEnvironment;
using ::sas::testing::MemoryFileSystem;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kPath[] = "c.toml";

// The keys of access_key credentials or of a ram_role_arn's inline source;
// empty keys for every other type.
aliyun::Credentials KeysOf(const CredentialsConfig& credentials) {
  if (const auto* keys = std::get_if<AccessKeyCredentials>(&credentials)) {
    return keys->keys;
  }
  if (const auto* role = std::get_if<RamRoleArnCredentials>(&credentials);
      role != nullptr && role->source_keys) {
    return *role->source_keys;
  }
  return {};
}

bool HasInlineSource(const CredentialsConfig& credentials) {
  const auto* role = std::get_if<RamRoleArnCredentials>(&credentials);
  return role != nullptr && role->source_keys.has_value();
}

bool FromEnvironment(const CredentialsConfig& credentials) {
  const auto* chain = std::get_if<DefaultCredentials>(&credentials);
  return chain != nullptr && chain->from_environment;
}

// role_session_name of ram_role_arn and oidc_role_arn; "" for other types.
std::string SessionNameOf(const CredentialsConfig& credentials) {
  if (const auto* role = std::get_if<RamRoleArnCredentials>(&credentials)) {
    return role->role_session_name;
  }
  if (const auto* role = std::get_if<OidcRoleArnCredentials>(&credentials)) {
    return role->role_session_name;
  }
  return "";
}

// profile and file of cli_profile and credentials_file.
std::pair<std::string, std::string> ProfileAndFileOf(
    const CredentialsConfig& credentials) {
  if (const auto* cli = std::get_if<CliProfileCredentials>(&credentials)) {
    return {cli->profile, cli->file};
  }
  if (const auto* file =
          std::get_if<CredentialsFileCredentials>(&credentials)) {
    return {file->profile, file->file};
  }
  return {};
}
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
  EXPECT_EQ(CredentialsTypeName(account.credentials), "access_key");
  EXPECT_FALSE(FromEnvironment(account.credentials));
  EXPECT_EQ(account.credentials_position.line, 4);
  EXPECT_EQ(KeysOf(account.credentials).access_key_id, "LTAIexampleid");
  EXPECT_EQ(KeysOf(account.credentials).access_key_secret, kSecret);
  EXPECT_EQ(KeysOf(account.credentials).security_token, "");
  EXPECT_EQ(KeysOf(account.credentials).expiration, std::nullopt);

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
  EXPECT_EQ(KeysOf(account.credentials).access_key_secret, "literal-secret");
  EXPECT_EQ(KeysOf(account.credentials).security_token, "literal-token");

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
  EXPECT_EQ(KeysOf(config.accounts[0].credentials).access_key_secret, kSecret);
  EXPECT_EQ(config.accounts[0].credentials_position.line, 4);
  EXPECT_EQ(config.accounts[0].credentials_position.column, 15);
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
          "unknown key for type \"access_key\"; did you mean "
          "\"access_key_secret_file\"?",
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
                  "\"finished_retention\", \"task_files\", \"max_tasks\""));
}

TEST_F(ConfigTest, ReadsTaskFilesAndMaxTasks) {
  Config config =
      Load(Cat({"[exporter]\ntask_files = [\"/etc/t/*.json\", "
                "\"/srv/one.json\"]\nmax_tasks = 500\n",
                kAccount, kTask}));
  EXPECT_THAT(config.exporter.task_files,
              ElementsAre("/etc/t/*.json", "/srv/one.json"));
  EXPECT_EQ(config.exporter.max_tasks, 500);
  EXPECT_THAT(
      Errors(Cat(
          {"[exporter]\ntask_files = \"/etc/t/*.json\"\n", kAccount, kTask})),
      ElementsAre(::testing::HasSubstr(
          "c.toml:2:14: exporter.task_files: expected an array of paths")));
  EXPECT_THAT(
      Errors(Cat({"[exporter]\ntask_files = [\"a\", 3]\n", kAccount, kTask})),
      ElementsAre(::testing::HasSubstr(
          "c.toml:2:20: exporter.task_files[2]: expected a non-empty "
          "string")));
  EXPECT_THAT(
      Errors(Cat({"[exporter]\nmax_tasks = 0\n", kAccount, kTask})),
      ElementsAre("c.toml:2:13: exporter.max_tasks: must be between 1 and "
                  "1000000, got 0"));
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
          "c.toml:2:17: exporter.poll_interval: must be between 100ms and "
          "24h, got \"99ms\"",
          "c.toml:3:15: exporter.concurrency: must be between 1 and 256, got "
          "0",
          "c.toml:4:19: exporter.request_timeout: must be longer than 0s and "
          "at "
          "most 10m, got \"0s\"; e.g. \"10s\"",
          "c.toml:5:19: exporter.connect_timeout: must be longer than 0s and "
          "at "
          "most 10m, got \"0s\"; e.g. \"10s\"",
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

TEST_F(ConfigTest, RefusesDurationsTooLongForTheClock) {
  EXPECT_THAT(
      Errors(Cat({R"([exporter]
poll_interval = "2562048h"
request_timeout = "10m1ms"
connect_timeout = "2562048h"
finished_retention = "2562048h"
)",
                  kAccount, kTask})),
      ElementsAre(
          "c.toml:2:17: exporter.poll_interval: must be between 100ms and "
          "24h, got \"2562048h\"",
          "c.toml:3:19: exporter.request_timeout: must be longer than 0s and "
          "at most 10m, got \"10m0.001s\"; e.g. \"10s\"",
          "c.toml:4:19: exporter.connect_timeout: must be longer than 0s and "
          "at most 10m, got \"2562048h\"; e.g. \"10s\"",
          "c.toml:5:22: exporter.finished_retention: must be between 0s and "
          "8760h, got \"2562048h\""));
  EXPECT_THAT(Errors(Cat({"[exporter]\npoll_interval = \"24h1ms\"\n"
                          "finished_retention = \"8761h\"\n",
                          kAccount, kTask})),
              ElementsAre("c.toml:2:17: exporter.poll_interval: must be "
                          "between 100ms and 24h, got \"24h0.001s\"",
                          "c.toml:3:22: exporter.finished_retention: must be "
                          "between 0s and 8760h, got \"8761h\""));
  Config config = Load(Cat({R"([exporter]
poll_interval = "24h"
request_timeout = "10m"
connect_timeout = "10m"
finished_retention = "8760h"
)",
                            kAccount, kTask}));
  EXPECT_EQ(config.exporter.poll_interval, kMaxPollInterval);
  EXPECT_EQ(config.exporter.request_timeout, kMaxTimeout);
  EXPECT_EQ(config.exporter.connect_timeout, kMaxTimeout);
  EXPECT_EQ(config.exporter.finished_retention, kMaxFinishedRetention);
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
  const aliyun::Credentials& keys = KeysOf(config.accounts[0].credentials);
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
  constexpr char kValidTypes[] =
      "(valid types: \"access_key\", \"ram_role_arn\", \"ecs_ram_role\", "
      "\"oidc_role_arn\", \"cli_profile\", \"credentials_file\", "
      "\"credentials_uri\", \"default\")";
  EXPECT_THAT(Errors(Cat({R"([[account]]
name = "a"
region = "cn-hangzhou"
[account.credentials]
type = "acces_key"
[[account]]
name = "b"
region = "cn-hangzhou"
[account.credentials]
type = "ram_role"
role_arn = "acs:ram::1:role/x"
[[account]]
name = "c"
region = "cn-hangzhou"
credentials = { type = "sts" }
)",
                          kTaskForA})),
              ElementsAre("c.toml:5:8: account[1].credentials.type: unknown "
                          "credentials type \"acces_key\"; did you mean "
                          "\"access_key\"? " +
                              std::string(kValidTypes),
                          "c.toml:10:8: account[2].credentials.type: unknown "
                          "credentials type \"ram_role\"; did you mean "
                          "\"ram_role_arn\"? " +
                              std::string(kValidTypes),
                          "c.toml:15:24: account[3].credentials.type: unknown "
                          "credentials type \"sts\" " +
                              std::string(kValidTypes)));
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

TEST_F(ConfigTest, WithoutCredentialsTableUsesTheDefaultChain) {
  // The chain reads the variables (and its other sources) at run time; the
  // loader neither reads nor requires them.
  Config config = Load(
      Cat({"[[account]]\nname = \"prod\"\nregion = \"cn-hangzhou\"\n", kTask}));
  const CredentialsConfig& credentials = config.accounts[0].credentials;
  EXPECT_TRUE(FromEnvironment(credentials));
  EXPECT_EQ(CredentialsTypeName(credentials), "default");
  EXPECT_EQ(config.accounts[0].credentials_position.line, 1);
  EXPECT_EQ(config.accounts[0].credentials_position.column, 1);
  EXPECT_EQ(KeysOf(credentials).access_key_id, "");
  EXPECT_FALSE(HasInlineSource(credentials));
  EXPECT_EQ(config.accounts[0].credential_endpoints.sts, std::nullopt);
  EXPECT_EQ(config.accounts[0].credential_endpoints.metadata, std::nullopt);

  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
  env_.Set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", kSecret);
  config = Load(
      Cat({"[[account]]\nname = \"prod\"\nregion = \"cn-hangzhou\"\n", kTask}));
  EXPECT_EQ(CredentialsTypeName(config.accounts[0].credentials), "default");
  EXPECT_EQ(KeysOf(config.accounts[0].credentials).access_key_secret, "");
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
  EXPECT_EQ(KeysOf(result.config->accounts[0].credentials).access_key_secret,
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

// ---- Credential types ------------------------------------------------------

// Account "prod" in cn-hangzhou (lines 1-3) whose [account.credentials]
// (line 4) holds `keys` from line 5 on, then kTask.
std::string WithCredentials(std::string_view keys) {
  return Cat(
      {"[[account]]\nname = \"prod\"\nregion = \"cn-hangzhou\"\n"
       "[account.credentials]\n",
       keys, kTask});
}

// Seven lines: an account assuming a role with `source`'s credentials; its
// source_account value is on the seventh line, column 18.
std::string RoleAccount(std::string_view name, std::string_view source) {
  return Cat({"[[account]]\nname = \"", name,
              "\"\nregion = \"cn-hangzhou\"\n[account.credentials]\n"
              "type = \"ram_role_arn\"\nrole_arn = \"acs:ram::1:role/r\"\n"
              "source_account = \"",
              source, "\"\n"});
}

TEST_F(ConfigTest, RamRoleArnWithInlineSourceLoadsEveryKey) {
  env_.Set("AK_ID", "LTAIsource");
  files_.Add("/run/sts", "source-token\n");
  Config config = Load(WithCredentials(R"(type = "ram_role_arn"
role_arn = "acs:ram::1234567890123456:role/sas-reader"
role_session_name = "sas@prod.example-1_x"
duration = "2h30m"
policy = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "yundun-sas:Describe*", "Resource": "*"}]}'
external_id = "abcd1234"
access_key_id_env = "AK_ID"
access_key_secret_env = "PROD_SECRET"
security_token_file = "/run/sts"
sts_endpoint = "http://127.0.0.1:9000"
)"));
  const CredentialsConfig& credentials = config.accounts[0].credentials;
  const auto& typed = std::get<RamRoleArnCredentials>(credentials);
  EXPECT_EQ(CredentialsTypeName(credentials), "ram_role_arn");
  EXPECT_FALSE(FromEnvironment(credentials));
  EXPECT_TRUE(HasInlineSource(credentials));
  EXPECT_EQ(typed.source_account, "");
  EXPECT_EQ(KeysOf(credentials).access_key_id, "LTAIsource");
  EXPECT_EQ(KeysOf(credentials).access_key_secret, kSecret);
  EXPECT_EQ(KeysOf(credentials).security_token, "source-token");
  EXPECT_EQ(typed.role_arn, "acs:ram::1234567890123456:role/sas-reader");
  EXPECT_EQ(typed.role_session_name, "sas@prod.example-1_x");
  EXPECT_EQ(typed.duration, Millis(9'000'000));
  EXPECT_EQ(typed.policy,
            R"({"Version": "1", "Statement": [{"Effect": "Allow", "Action": )"
            R"("yundun-sas:Describe*", "Resource": "*"}]})");
  EXPECT_EQ(typed.external_id, "abcd1234");
  EXPECT_EQ(config.accounts[0].credential_endpoints.sts,
            (aliyun::Endpoint{"http", "127.0.0.1", 9000}));
  EXPECT_EQ(config.accounts[0].credential_endpoints.metadata, std::nullopt);
  EXPECT_EQ(config.accounts[0].credentials_position.line, 4);
}

TEST_F(ConfigTest, RamRoleArnFromSourceAccountGetsDefaults) {
  // "audit" names "prod", defined later; "report" chains through "audit".
  Config config = Load(Cat({R"([[account]]
name = "audit"
region = "cn-hangzhou"
[account.credentials]
type = "ram_role_arn"
role_arn = "acs:ram::1234567890123456:role/sas-reader"
source_account = "prod"
)",
                            RoleAccount("report", "audit"), kAccount, kTask}));
  ASSERT_EQ(config.accounts.size(), 3u);
  const CredentialsConfig& credentials = config.accounts[0].credentials;
  const auto& typed = std::get<RamRoleArnCredentials>(credentials);
  EXPECT_EQ(CredentialsTypeName(credentials), "ram_role_arn");
  EXPECT_EQ(typed.source_account, "prod");
  EXPECT_FALSE(HasInlineSource(credentials));
  EXPECT_EQ(KeysOf(credentials).access_key_id, "");
  EXPECT_EQ(typed.role_session_name, "aliyun_sas_exporter");
  EXPECT_EQ(typed.duration, Millis(3'600'000));
  EXPECT_EQ(typed.policy, "");
  EXPECT_EQ(typed.external_id, "");
  EXPECT_EQ(config.accounts[0].credential_endpoints.sts, std::nullopt);
  EXPECT_EQ(std::get<RamRoleArnCredentials>(config.accounts[1].credentials)
                .source_account,
            "audit");
}

TEST_F(ConfigTest, RoleSessionNameDefaultsToEnvironmentVariable) {
  files_.Add("/var/run/token", "eyJ.token");
  std::string text =
      Cat({RoleAccount("a", "prod"), R"(role_session_name = "explicit"
[[account]]
name = "b"
region = "cn-hangzhou"
[account.credentials]
type = "oidc_role_arn"
role_arn = "acs:ram::1:role/r"
oidc_provider_arn = "acs:ram::1:oidc-provider/p"
oidc_token_file = "/var/run/token"
)",
           RoleAccount("c", "prod"), kAccount, kTaskForA});
  env_.Set("ALIBABA_CLOUD_ROLE_SESSION_NAME", "from-env@host");
  Config config = Load(text);
  ASSERT_EQ(config.accounts.size(), 4u);
  EXPECT_EQ(SessionNameOf(config.accounts[0].credentials), "explicit");
  EXPECT_EQ(SessionNameOf(config.accounts[1].credentials), "from-env@host");
  EXPECT_EQ(SessionNameOf(config.accounts[2].credentials), "from-env@host");

  env_.Set("ALIBABA_CLOUD_ROLE_SESSION_NAME", "");
  config = Load(text);
  EXPECT_EQ(SessionNameOf(config.accounts[1].credentials),
            "aliyun_sas_exporter");

  env_.Set("ALIBABA_CLOUD_ROLE_SESSION_NAME", "x");
  EXPECT_THAT(
      Errors(text),
      ElementsAre(
          "c.toml:12:1: account[2].credentials.role_session_name: "
          "environment variable ALIBABA_CLOUD_ROLE_SESSION_NAME holds an "
          "invalid session name \"x\"; use 2 to 64 characters of A-Z, a-z, "
          "0-9, \".\", \"@\", \"_\" and \"-\", or set role_session_name here",
          "c.toml:20:1: account[3].credentials.role_session_name: "
          "environment variable ALIBABA_CLOUD_ROLE_SESSION_NAME holds an "
          "invalid session name \"x\"; use 2 to 64 characters of A-Z, a-z, "
          "0-9, \".\", \"@\", \"_\" and \"-\", or set role_session_name "
          "here"));
}

TEST_F(ConfigTest, EcsRamRoleLoadsItsKeysAndDefaults) {
  Config config = Load(WithCredentials(R"(type = "ecs_ram_role"
role_name = "sas-exporter"
imds_v1_disabled = true
metadata_endpoint = "http://127.0.0.1:8081"
)"));
  const CredentialsConfig& credentials = config.accounts[0].credentials;
  const auto& typed = std::get<EcsRamRoleCredentials>(credentials);
  EXPECT_EQ(CredentialsTypeName(credentials), "ecs_ram_role");
  EXPECT_EQ(typed.role_name, "sas-exporter");
  EXPECT_TRUE(typed.imds_v1_disabled);
  EXPECT_EQ(config.accounts[0].credential_endpoints.metadata,
            (aliyun::Endpoint{"http", "127.0.0.1", 8081}));

  config = Load(WithCredentials("type = \"ecs_ram_role\"\n"));
  EXPECT_EQ(
      std::get<EcsRamRoleCredentials>(config.accounts[0].credentials).role_name,
      "");
  EXPECT_FALSE(std::get<EcsRamRoleCredentials>(config.accounts[0].credentials)
                   .imds_v1_disabled);
  EXPECT_EQ(config.accounts[0].credential_endpoints.metadata, std::nullopt);
}

TEST_F(ConfigTest, EcsRamRoleRejectsEmptyRoleAndQuotedBoolean) {
  EXPECT_THAT(
      Errors(WithCredentials(R"(type = "ecs_ram_role"
role_name = ""
imds_v1_disabled = "true"
)")),
      ElementsAre("c.toml:6:13: account[1].credentials.role_name: must not be "
                  "empty; remove the key to ask the metadata service for the "
                  "role",
                  "c.toml:7:20: account[1].credentials.imds_v1_disabled: "
                  "expected boolean, found string; write it without quotes"));
}

TEST_F(ConfigTest, OidcRoleArnLoadsItsKeys) {
  files_.Add("/var/run/token", kToken);
  Config config = Load(WithCredentials(R"(type = "oidc_role_arn"
role_arn = "acs:ram::1234567890123456:role/sas-reader"
oidc_provider_arn = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123"
oidc_token_file = "/var/run/token"
role_session_name = "pod-1"
duration = "15m"
)"));
  const CredentialsConfig& credentials = config.accounts[0].credentials;
  const auto& typed = std::get<OidcRoleArnCredentials>(credentials);
  EXPECT_EQ(CredentialsTypeName(credentials), "oidc_role_arn");
  EXPECT_EQ(typed.role_arn, "acs:ram::1234567890123456:role/sas-reader");
  EXPECT_EQ(typed.oidc_provider_arn,
            "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123");
  EXPECT_EQ(typed.oidc_token_file, "/var/run/token");
  EXPECT_EQ(typed.role_session_name, "pod-1");
  EXPECT_EQ(typed.duration, Millis(900'000));
  EXPECT_FALSE(HasInlineSource(credentials));
  EXPECT_EQ(KeysOf(credentials).access_key_id, "");
}

TEST_F(ConfigTest, OidcRoleArnRequiresItsKeys) {
  EXPECT_THAT(
      Errors(WithCredentials("type = \"oidc_role_arn\"\n")),
      ElementsAre(
          "c.toml:4:1: account[1].credentials.role_arn: required key is "
          "missing; e.g. role_arn = "
          "\"acs:ram::1234567890123456:role/sas-reader\"",
          "c.toml:4:1: account[1].credentials.oidc_provider_arn: required key "
          "is missing; e.g. oidc_provider_arn = "
          "\"acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123\"",
          "c.toml:4:1: account[1].credentials.oidc_token_file: required key "
          "is missing; e.g. oidc_token_file = "
          "\"/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token\""));
}

TEST_F(ConfigTest, OidcTokenFileMustBeReadable) {
  files_.Add("/var/run/token", kToken);
  std::string keys = R"(type = "oidc_role_arn"
role_arn = "acs:ram::1:role/r"
oidc_provider_arn = "acs:ram::1:oidc-provider/p"
oidc_token_file = "%s"
)";
  auto with = [&](std::string path) {
    std::string text = keys;
    text.replace(text.find("%s"), 2, path);
    return WithCredentials(text);
  };
  EXPECT_EQ(std::get<OidcRoleArnCredentials>(
                Load(with("/var/run/token")).accounts[0].credentials)
                .oidc_token_file,
            "/var/run/token");
  EXPECT_THAT(Errors(with("/var/run/missing")),
              ElementsAre("c.toml:8:19: account[1].credentials."
                          "oidc_token_file: cannot read \"/var/run/missing\": "
                          "No such file or directory"));
  EXPECT_THAT(Errors(with("")),
              ElementsAre("c.toml:8:19: account[1].credentials."
                          "oidc_token_file: must not be empty; name the OIDC "
                          "token's file"));
}

TEST_F(ConfigTest, ProfileTypesLoadProfileAndFile) {
  for (const char* type : {"cli_profile", "credentials_file"}) {
    Config config = Load(WithCredentials(Cat({"type = \"", type, R"("
profile = "sas"
file = "/etc/aliyun/profiles"
)"})));
    const CredentialsConfig& credentials = config.accounts[0].credentials;
    EXPECT_EQ(CredentialsTypeName(credentials), type);
    EXPECT_EQ(
        ProfileAndFileOf(credentials),
        (std::pair<std::string, std::string>{"sas", "/etc/aliyun/profiles"}));

    config = Load(WithCredentials(Cat({"type = \"", type, "\"\n"})));
    EXPECT_EQ(ProfileAndFileOf(config.accounts[0].credentials),
              (std::pair<std::string, std::string>{"", ""}));
  }
}

TEST_F(ConfigTest, ProfileTypesRejectEmptyValues) {
  EXPECT_THAT(
      Errors(WithCredentials(R"(type = "cli_profile"
profile = ""
file = ""
)")),
      ElementsAre("c.toml:6:11: account[1].credentials.profile: must not be "
                  "empty; remove the key to use ALIBABA_CLOUD_PROFILE or the "
                  "file's current profile",
                  "c.toml:7:8: account[1].credentials.file: must not be "
                  "empty; remove the key to use ALIBABA_CLOUD_CONFIG_FILE or "
                  "~/.aliyun/config.json"));
  EXPECT_THAT(
      Errors(WithCredentials(R"(type = "credentials_file"
profile = ""
file = ""
)")),
      ElementsAre("c.toml:6:11: account[1].credentials.profile: must not be "
                  "empty; remove the key to use ALIBABA_CLOUD_PROFILE or "
                  "[default]",
                  "c.toml:7:8: account[1].credentials.file: must not be "
                  "empty; remove the key to use ALIBABA_CLOUD_CREDENTIALS_FILE "
                  "or ~/.alibabacloud/credentials"));
}

TEST_F(ConfigTest, CredentialsUriLoads) {
  for (const char* uri :
       {"http://127.0.0.1:8080/credentials?role=sas",
        "https://creds.internal.example", "HTTP://[::1]:9/c"}) {
    Config config = Load(WithCredentials(
        Cat({"type = \"credentials_uri\"\nuri = \"", uri, "\"\n"})));
    EXPECT_EQ(CredentialsTypeName(config.accounts[0].credentials),
              "credentials_uri");
    EXPECT_EQ(
        std::get<CredentialsUriCredentials>(config.accounts[0].credentials).uri,
        uri);
  }
}

TEST_F(ConfigTest, CredentialsUriMustBeAnHttpUrl) {
  for (const char* uri :
       {"ftp://host/c", "127.0.0.1:8080/c", "http://", "https:///c",
        "http://:80/c", "http://host/a b", ""}) {
    EXPECT_THAT(
        Errors(WithCredentials(
            Cat({"type = \"credentials_uri\"\nuri = \"", uri, "\"\n"}))),
        ElementsAre("c.toml:6:7: account[1].credentials.uri: must be an "
                    "http:// or https:// URL with a host, without spaces, "
                    "e.g. \"http://127.0.0.1:8080/credentials\""))
        << uri;
  }
  EXPECT_THAT(Errors(WithCredentials("type = \"credentials_uri\"\n")),
              ElementsAre("c.toml:4:1: account[1].credentials.uri: required "
                          "key is missing; e.g. uri = "
                          "\"http://127.0.0.1:8080/credentials\""));
}

TEST_F(ConfigTest, ExplicitDefaultTypeIsNotFromEnvironment) {
  Config config = Load(WithCredentials("type = \"default\"\n"));
  EXPECT_EQ(CredentialsTypeName(config.accounts[0].credentials), "default");
  EXPECT_FALSE(FromEnvironment(config.accounts[0].credentials));
  EXPECT_EQ(config.accounts[0].credentials_position.line, 4);
}

TEST_F(ConfigTest, EveryTypeAcceptsEndpointOverrides) {
  files_.Add("/var/run/token", "eyJ.token");
  const std::vector<std::string> types = {
      "type = \"access_key\"\naccess_key_id = \"id\"\n"
      "access_key_secret_env = \"PROD_SECRET\"\n",
      "type = \"ram_role_arn\"\nrole_arn = \"acs:ram::1:role/r\"\n"
      "access_key_id = \"id\"\naccess_key_secret_env = \"PROD_SECRET\"\n",
      "type = \"ecs_ram_role\"\n",
      "type = \"oidc_role_arn\"\nrole_arn = \"acs:ram::1:role/r\"\n"
      "oidc_provider_arn = \"acs:ram::1:oidc-provider/p\"\n"
      "oidc_token_file = \"/var/run/token\"\n",
      "type = \"cli_profile\"\n",
      "type = \"credentials_file\"\n",
      "type = \"credentials_uri\"\nuri = \"http://127.0.0.1:1/c\"\n",
      "type = \"default\"\n"};
  for (const std::string& keys : types) {
    Config config =
        Load(WithCredentials(
            keys + "sts_endpoint = \"sts-vpc.cn-hangzhou.aliyuncs.com\"\n"
                   "metadata_endpoint = \"http://[::1]:8081/\"\n"));
    EXPECT_EQ(
        config.accounts[0].credential_endpoints.sts,
        (aliyun::Endpoint{"https", "sts-vpc.cn-hangzhou.aliyuncs.com", 443}))
        << keys;
    EXPECT_EQ(config.accounts[0].credential_endpoints.metadata,
              (aliyun::Endpoint{"http", "::1", 8081}))
        << keys;
  }
}

TEST_F(ConfigTest, RejectsBadEndpointOverrides) {
  EXPECT_THAT(
      Errors(WithCredentials(R"(type = "ecs_ram_role"
sts_endpoint = "ftp://sts.aliyuncs.com"
metadata_endpoint = "http://100.100.100.200/latest"
)")),
      ElementsAre("c.toml:6:16: account[1].credentials.sts_endpoint: endpoint "
                  "scheme \"ftp\" is not supported (use https:// or http://)",
                  "c.toml:7:21: account[1].credentials.metadata_endpoint: "
                  "endpoint must not contain a path (give scheme, host and "
                  "port only, e.g. https://tds.cn-shanghai.aliyuncs.com)"));
  EXPECT_THAT(Errors(WithCredentials("type = \"default\"\nsts_endpoint = 1\n")),
              ElementsAre("c.toml:6:16: account[1].credentials.sts_endpoint: "
                          "expected string, found integer"));
}

TEST_F(ConfigTest, StsRegionChoosesTheStsEndpointsRegion) {
  Config config = Load(WithCredentials(
      "type = \"ecs_ram_role\"\nsts_region = \"ap-southeast-1\"\n"));
  EXPECT_EQ(config.accounts[0].credential_endpoints.sts_region,
            "ap-southeast-1");
  EXPECT_EQ(config.accounts[0].credential_endpoints.sts, std::nullopt);
  config = Load(WithCredentials("type = \"default\"\n"));
  EXPECT_EQ(config.accounts[0].credential_endpoints.sts_region, "");
}

TEST_F(ConfigTest, RejectsBadStsRegion) {
  EXPECT_THAT(
      Errors(WithCredentials("type = \"default\"\nsts_region = \"CN_X\"\n")),
      ElementsAre("c.toml:6:14: account[1].credentials.sts_region: invalid "
                  "region id \"CN_X\"; expected a region id such as "
                  "\"cn-hangzhou\""));
  EXPECT_THAT(
      Errors(WithCredentials("type = \"default\"\nsts_endpoint = "
                             "\"https://sts.aliyuncs.com\"\nsts_region = "
                             "\"cn-hangzhou\"\n")),
      ElementsAre("c.toml:7:14: account[1].credentials.sts_region: conflicts "
                  "with sts_endpoint at line 6; set only one of them"));
}

TEST_F(ConfigTest, VpcRegionWithoutAVpcEndpointIsRefused) {
  EXPECT_THAT(Errors(Cat({R"([[account]]
name = "prod"
region = "cn-nanjing"
network = "vpc"
)",
                          kTask})),
              ElementsAre("c.toml:3:10: account[1].region: region "
                          "\"cn-nanjing\" has no Security Center VPC "
                          "endpoint; set network = \"public\", or set "
                          "endpoint to the host to use"));
  Config config = Load(Cat({R"([[account]]
name = "prod"
region = "ap-southeast-2"
network = "vpc"
[[account]]
name = "new"
region = "xx-new-1"
network = "vpc"
)",
                            kTask}));
  EXPECT_EQ(config.accounts[0].endpoint.Url(),
            "https://tds-vpc.ap-southeast-2.aliyuncs.com");
  EXPECT_EQ(config.accounts[1].endpoint.Url(),
            "https://sas-vpc.xx-new-1.aliyuncs.com");
}

TEST_F(ConfigTest, RamRoleArnRequiresRoleArn) {
  EXPECT_THAT(Errors(WithCredentials(R"(type = "ram_role_arn"
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
)")),
              ElementsAre("c.toml:4:1: account[1].credentials.role_arn: "
                          "required key is missing; e.g. role_arn = "
                          "\"acs:ram::1234567890123456:role/sas-reader\""));
}

TEST_F(ConfigTest, RejectsMalformedArns) {
  for (const char* arn :
       {"acs:ram::abc:role/r", "acs:ram:123:role/r", "acs:ram::123:user/r",
        "acs:ram::123:role/", "arn:ram::123:role/r", "acs:ram::123:role/a b",
        "acs:ram:::role/r", "acs:ram::123:oidc-provider/p"}) {
    EXPECT_THAT(
        Errors(WithCredentials(
            Cat({"type = \"ram_role_arn\"\nrole_arn = \"", arn,
                 "\"\naccess_key_id = \"id\"\n"
                 "access_key_secret_env = \"PROD_SECRET\"\n"}))),
        ElementsAre("c.toml:6:12: account[1].credentials.role_arn: invalid "
                    "ARN " +
                    std::string("\"") + arn +
                    "\"; expected \"acs:ram::<account id>:role/<name>\", "
                    "e.g. \"acs:ram::1234567890123456:role/sas-reader\""))
        << arn;
  }
  files_.Add("/t", "token");
  EXPECT_THAT(
      Errors(WithCredentials(R"(type = "oidc_role_arn"
role_arn = "acs:ram::1:role/r"
oidc_provider_arn = "acs:ram::1:role/r"
oidc_token_file = "/t"
)")),
      ElementsAre("c.toml:7:21: account[1].credentials.oidc_provider_arn: "
                  "invalid ARN \"acs:ram::1:role/r\"; expected "
                  "\"acs:ram::<account id>:oidc-provider/<name>\", e.g. "
                  "\"acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123\""));
}

TEST_F(ConfigTest, RamRoleArnNeedsExactlyOneSource) {
  EXPECT_THAT(
      Errors(Cat({WithCredentials(R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
source_account = "other"
)"),
                  RoleAccount("other", "prod")})),
      ElementsAre("c.toml:9:18: account[1].credentials.source_account: "
                  "conflicts with the access key at line 7; set either "
                  "source_account or access_key_id and access_key_secret, "
                  "not both"));
  EXPECT_THAT(Errors(WithCredentials(R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
)")),
              ElementsAre("c.toml:4:1: account[1].credentials: type "
                          "\"ram_role_arn\" needs credentials to assume the "
                          "role with; set source_account to another "
                          "[[account]]'s name, or access_key_id and "
                          "access_key_secret (or their *_env / *_file forms)"));
  // A token alone is an inline source missing its keys.
  EXPECT_THAT(Errors(WithCredentials(R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
security_token_env = "PROD_SECRET"
)")),
              ElementsAre("c.toml:4:1: account[1].credentials.access_key_id: "
                          "required key is missing; set one of access_key_id, "
                          "access_key_id_env or access_key_id_file",
                          "c.toml:4:1: account[1].credentials."
                          "access_key_secret: required key is missing; set "
                          "one of access_key_secret, access_key_secret_env or "
                          "access_key_secret_file"));
}

TEST_F(ConfigTest, SourceAccountMustNameAnotherDefinedAccount) {
  EXPECT_THAT(
      Errors(Cat({kAccount, RoleAccount("a", "prd"), RoleAccount("b", "b"),
                  RoleAccount("c", ""), kTaskForA})),
      ElementsAre("c.toml:13:18: account[2].credentials.source_account: no "
                  "account named \"prd\"; did you mean \"prod\"? (defined "
                  "accounts: \"a\", \"b\", \"c\", \"prod\")",
                  "c.toml:20:18: account[3].credentials.source_account: names "
                  "this account itself; name another [[account]] whose "
                  "credentials assume the role, or set access_key_id and "
                  "access_key_secret",
                  "c.toml:27:18: account[4].credentials.source_account: must "
                  "not be empty; name another [[account]] whose credentials "
                  "assume the role"));
}

TEST_F(ConfigTest, SourceAccountCycleIsNamedOnce) {
  // "d" leads into the cycle without being part of it.
  EXPECT_THAT(
      Errors(Cat({RoleAccount("a", "b"), RoleAccount("b", "c"),
                  RoleAccount("c", "a"), RoleAccount("d", "a"), kTaskForA})),
      ElementsAre("c.toml:7:18: account[1].credentials.source_account: "
                  "source accounts form a cycle: a -> b -> c -> a; one "
                  "of these accounts needs credentials of its own"));
  // Reported at the member written first, not at the account leading in.
  EXPECT_THAT(Errors(Cat({RoleAccount("d", "b"), RoleAccount("b", "c"),
                          RoleAccount("c", "b"), kAccount, kTask})),
              ElementsAre("c.toml:14:18: account[2].credentials."
                          "source_account: source accounts form a cycle: b -> "
                          "c -> b; one of these accounts needs credentials of "
                          "its own"));
}

TEST_F(ConfigTest, RoleDurationIsBounded) {
  std::string keys = R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
duration = "%s"
)";
  auto with = [&](std::string duration) {
    std::string text = keys;
    text.replace(text.find("%s"), 2, duration);
    return WithCredentials(text);
  };
  EXPECT_EQ(
      std::get<RamRoleArnCredentials>(Load(with("15m")).accounts[0].credentials)
          .duration,
      Millis(900'000));
  EXPECT_EQ(
      std::get<RamRoleArnCredentials>(Load(with("12h")).accounts[0].credentials)
          .duration,
      Millis(43'200'000));
  EXPECT_THAT(Errors(with("14m59s")),
              ElementsAre("c.toml:9:12: account[1].credentials.duration: must "
                          "be between 15m and 12h, got \"14m59s\""));
  EXPECT_THAT(Errors(with("12h0.5s")),
              ElementsAre("c.toml:9:12: account[1].credentials.duration: must "
                          "be between 15m and 12h, got \"12h0.5s\""));
  EXPECT_THAT(Errors(with("1 hour")),
              ElementsAre("c.toml:9:12: account[1].credentials.duration: "
                          "invalid duration \"1 hour\"; write numbers with "
                          "units ms, s, m or h, e.g. \"500ms\", \"30s\", "
                          "\"5m\", \"1h30m\""));
}

TEST_F(ConfigTest, RejectsBadSessionNames) {
  for (std::string name :
       {std::string("a"), std::string(65, 'a'), std::string("pod 1"),
        std::string("pod/1"), std::string("pod#1")}) {
    EXPECT_THAT(
        Errors(WithCredentials(Cat({R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
role_session_name = ")",
                                    name, "\"\n"}))),
        ElementsAre("c.toml:9:21: account[1].credentials.role_session_name: "
                    "invalid session name \"" +
                    name +
                    "\"; use 2 to 64 characters of A-Z, a-z, 0-9, \".\", "
                    "\"@\", \"_\" and \"-\""))
        << name;
  }
  EXPECT_EQ(
      SessionNameOf(Load(WithCredentials(Cat({R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
role_session_name = ")",
                                              std::string(64, 'a'), "\"\n"})))
                        .accounts[0]
                        .credentials),
      std::string(64, 'a'));
}

TEST_F(ConfigTest, PolicyMustBeAJsonObject) {
  std::string keys = R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
policy = '%s'
)";
  auto with = [&](std::string policy) {
    std::string text = keys;
    text.replace(text.find("%s"), 2, policy);
    return WithCredentials(text);
  };
  EXPECT_THAT(Errors(with(R"({"Version": "1", "Statement": [})")),
              ElementsAre("c.toml:9:10: account[1].credentials.policy: "
                          "invalid JSON at byte 32; expected a policy "
                          "document such as {\"Version\": \"1\", "
                          "\"Statement\": [...]}"));
  EXPECT_THAT(Errors(with(R"({"Version": "1", "Statement": [], "x": 1e400})")),
              ElementsAre("c.toml:9:10: account[1].credentials.policy: "
                          "invalid JSON: a number is too large (beyond "
                          "+-1.8e308)"));
  EXPECT_THAT(Errors(with("[1]")),
              ElementsAre("c.toml:9:10: account[1].credentials.policy: must "
                          "be a JSON object (a policy document), found "
                          "array"));
  EXPECT_THAT(Errors(with("")),
              ElementsAre("c.toml:9:10: account[1].credentials.policy: must "
                          "not be empty; remove the key for no policy"));
  EXPECT_THAT(Errors(Cat({WithCredentials(R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "id"
access_key_secret_env = "PROD_SECRET"
external_id = ""
)")})),
              ElementsAre("c.toml:9:15: account[1].credentials.external_id: "
                          "must not be empty; remove the key to send no "
                          "ExternalId"));
}

TEST_F(ConfigTest, RejectsUnknownKeyPerTypeWithSuggestion) {
  files_.Add("/t", "token");
  struct Case {
    std::string keys;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"type = \"access_key\"\naccess_key_id = \"id\"\n"
       "access_key_secret_env = \"PROD_SECRET\"\nacess_key_id = \"x\"\n",
       "c.toml:8:1: account[1].credentials.acess_key_id: unknown key for type "
       "\"access_key\"; did you mean \"access_key_id\"?"},
      {"type = \"ram_role_arn\"\nrole_arn = \"acs:ram::1:role/r\"\n"
       "access_key_id = \"id\"\naccess_key_secret_env = \"PROD_SECRET\"\n"
       "role_sesion_name = \"x\"\n",
       "c.toml:9:1: account[1].credentials.role_sesion_name: unknown key for "
       "type \"ram_role_arn\"; did you mean \"role_session_name\"?"},
      {"type = \"ecs_ram_role\"\nimds_v1_disable = true\n",
       "c.toml:6:1: account[1].credentials.imds_v1_disable: unknown key for "
       "type \"ecs_ram_role\"; did you mean \"imds_v1_disabled\"?"},
      {"type = \"oidc_role_arn\"\nrole_arn = \"acs:ram::1:role/r\"\n"
       "oidc_provider_arn = \"acs:ram::1:oidc-provider/p\"\n"
       "oidc_token_file = \"/t\"\noidc_provider = \"x\"\n",
       "c.toml:9:1: account[1].credentials.oidc_provider: unknown key for type "
       "\"oidc_role_arn\"; did you mean \"oidc_provider_arn\"?"},
      {"type = \"cli_profile\"\nprofil = \"x\"\n",
       "c.toml:6:1: account[1].credentials.profil: unknown key for type "
       "\"cli_profile\"; did you mean \"profile\"?"},
      {"type = \"credentials_file\"\npath = \"x\"\n",
       "c.toml:6:1: account[1].credentials.path: unknown key for type "
       "\"credentials_file\"; valid keys here: \"type\", \"profile\", "
       "\"file\", \"sts_endpoint\", \"sts_region\", \"metadata_endpoint\""},
      {"type = \"credentials_uri\"\nuri = \"http://h/c\"\nurl = \"x\"\n",
       "c.toml:7:1: account[1].credentials.url: unknown key for type "
       "\"credentials_uri\"; did you mean \"uri\"?"},
      {"type = \"default\"\nsts_endpiont = \"x\"\n",
       "c.toml:6:1: account[1].credentials.sts_endpiont: unknown key for type "
       "\"default\"; did you mean \"sts_endpoint\"?"},
      // A key of another type.
      {"type = \"ecs_ram_role\"\nuri = \"http://h/c\"\n",
       "c.toml:6:1: account[1].credentials.uri: unknown key for type "
       "\"ecs_ram_role\"; valid keys here: \"type\", \"role_name\", "
       "\"imds_v1_disabled\", \"sts_endpoint\", \"sts_region\", "
       "\"metadata_endpoint\""},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Errors(WithCredentials(c.keys)), ElementsAre(c.expected))
        << c.keys;
  }
}

// ---- network ---------------------------------------------------------------

TEST_F(ConfigTest, VpcNetworkChoosesVpcEndpoints) {
  Config config = Load(Cat({R"([[account]]
name = "cn"
region = "cn-hangzhou"
network = "vpc"
[[account]]
name = "intl"
region = "ap-southeast-1"
network = "vpc"
[[account]]
name = "pinned"
region = "cn-hangzhou"
endpoint = "https://tds.cn-shanghai.aliyuncs.com"
network = "vpc"
[[account]]
name = "pub"
region = "cn-hangzhou"
network = "public"
)",
                            kAccount, kTask}));
  ASSERT_EQ(config.accounts.size(), 5u);
  EXPECT_EQ(config.accounts[0].network, Network::kVpc);
  EXPECT_EQ(config.accounts[0].endpoint.Url(),
            "https://tds.vpc-proxy.aliyuncs.com");
  EXPECT_EQ(config.accounts[1].endpoint.Url(),
            "https://tds-intl.vpc-proxy.aliyuncs.com");
  // An explicit endpoint wins.
  EXPECT_EQ(config.accounts[2].network, Network::kVpc);
  EXPECT_EQ(config.accounts[2].endpoint.Url(),
            "https://tds.cn-shanghai.aliyuncs.com");
  EXPECT_EQ(config.accounts[3].network, Network::kPublic);
  EXPECT_EQ(config.accounts[3].endpoint.Url(),
            "https://tds.cn-shanghai.aliyuncs.com");
  EXPECT_EQ(config.accounts[4].network, Network::kPublic);
}

TEST_F(ConfigTest, RejectsBadNetwork) {
  EXPECT_THAT(Errors(Cat({R"([[account]]
name = "prod"
region = "cn-hangzhou"
network = "private"
[[account]]
name = "b"
region = "cn-hangzhou"
network = true
)",
                          kTask})),
              ElementsAre("c.toml:4:11: account[1].network: invalid value "
                          "\"private\"; expected \"public\" (the Internet "
                          "endpoints) or \"vpc\" (the VPC endpoints)",
                          "c.toml:8:11: account[2].network: expected string, "
                          "found boolean"));
}

// ---- Secrets of the new types ----------------------------------------------

TEST_F(ConfigTest, WarnsAboutLiteralRamRoleArnSourceKeys) {
  files_.Add(kPath, "", /*readable_by_others=*/true);
  LoadResult result = Parse(WithCredentials(R"(type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "LTAIliteral"
access_key_secret = "literal-secret"
security_token = "literal-token"
)"));
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(
      Messages(result),
      ElementsAre(
          "c.toml:8:21: warning: account[1].credentials.access_key_secret: a "
          "secret is written in a configuration file that other users can "
          "read; run chmod 600 c.toml, or use access_key_secret_env or "
          "access_key_secret_file instead",
          "c.toml:9:18: warning: account[1].credentials.security_token: a "
          "secret is written in a configuration file that other users can "
          "read; run chmod 600 c.toml, or use security_token_env or "
          "security_token_file instead"));
  const CredentialsConfig& credentials = result.config->accounts[0].credentials;
  EXPECT_TRUE(HasInlineSource(credentials));
  EXPECT_EQ(KeysOf(credentials).access_key_secret, "literal-secret");
  EXPECT_EQ(KeysOf(credentials).security_token, "literal-token");
}

TEST_F(ConfigTest, NoCredentialTypeDiagnosticContainsASecret) {
  env_.Set("MULTILINE", std::string(kSecret) + "\n" + kToken);
  env_.Set("ALIBABA_CLOUD_ROLE_SESSION_NAME", "bad session");
  files_.Add("/run/two-lines", std::string(kSecret) + "\n" + kToken + "\n");
  files_.Add("/var/run/token", kToken);
  files_.Add(kPath, "", /*readable_by_others=*/true);
  std::string text = R"([[account]]
name = "a"
region = "cn-hangzhou"
[account.credentials]
type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id = "id"
access_key_secret = "s3cr3t-VALUE-do-not-leak"
security_token_env = "MULTILINE"
source_account = "b"
[[account]]
name = "b"
region = "cn-hangzhou"
[account.credentials]
type = "ram_role_arn"
role_arn = "acs:ram::1:role/r"
access_key_id_file = "/run/two-lines"
access_key_secret = "s3cr3t-VALUE-do-not-leak"
security_token = "sts-TOKEN-do-not-leak"
policy = "{"
[[account]]
name = "c"
region = "cn-hangzhou"
[account.credentials]
type = "oidc_role_arn"
role_arn = "acs:ram::1:role/r"
oidc_provider_arn = "x"
oidc_token_file = "/var/run/token"
access_key_secret = "s3cr3t-VALUE-do-not-leak"
[[account]]
name = "d"
region = "cn-hangzhou"
[account.credentials]
type = "credentials_uri"
uri = "http://h/c?token=sts-TOKEN-do-not-leak x"
)";
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

TEST_F(ConfigTest, TaskNameMustNotHoldControlCharacters) {
  EXPECT_THAT(Errors(Cat({kAccount, kTask, "name = \"a\\u0000b\"\n"})),
              ElementsAre("c.toml:10:8: task[1].name: contains control "
                          "character U+0000 at byte 1; the name becomes the "
                          "task label: write it without control characters"));
  EXPECT_THAT(Errors(Cat({kAccount, kTask, "name = \"x\\n\"\n"})),
              ElementsAre("c.toml:10:8: task[1].name: contains control "
                          "character U+000A at byte 1; the name becomes the "
                          "task label: write it without control characters"));
  Config config = Load(Cat({kAccount, kTask, "name = \"caf\\u00e9\"\n"}));
  EXPECT_EQ(config.tasks.at(0).name, "caf\xc3\xa9");
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
                          "line 7 already polls account \"prod\", action "
                          "DescribeExportInfo, export_id 131231",
                          "c.toml:17:1: task[4]: duplicate task; task[3] at "
                          "line 13 already polls account \"prod\", action "
                          "DescribeExportInfo, export_id 131231, "
                          "rd_account_id 5"));
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
  MapEnvironment env;
  env.Set("PROD_AK_SECRET", "prod-secret");
  std::string path = SAS_SOURCE_DIR "/config/aliyun_sas_exporter.toml";
  LoadResult result = LoadConfigFile(path, env, LocalFileSystem());
  EXPECT_THAT(Messages(result), IsEmpty());
  ASSERT_TRUE(result.ok());
  const Config& config = *result.config;
  EXPECT_EQ(config.exporter.poll_interval, Millis(60'000));
  ASSERT_EQ(config.accounts.size(), 3u);
  EXPECT_EQ(config.accounts[0].name, "prod");
  EXPECT_EQ(config.accounts[0].network, Network::kPublic);
  EXPECT_EQ(CredentialsTypeName(config.accounts[0].credentials), "access_key");
  EXPECT_EQ(KeysOf(config.accounts[0].credentials).access_key_secret,
            "prod-secret");
  EXPECT_TRUE(FromEnvironment(config.accounts[1].credentials));
  EXPECT_EQ(CredentialsTypeName(config.accounts[1].credentials), "default");
  EXPECT_EQ(config.accounts[1].endpoint.Url(),
            "https://tds.ap-southeast-1.aliyuncs.com");
  EXPECT_EQ(CredentialsTypeName(config.accounts[2].credentials),
            "ram_role_arn");
  const auto& audit =
      std::get<RamRoleArnCredentials>(config.accounts[2].credentials);
  EXPECT_EQ(audit.source_account, "prod");
  EXPECT_EQ(audit.role_arn, "acs:ram::1234567890123456:role/sas-reader");
  EXPECT_EQ(audit.duration, Millis(3'600'000));
  EXPECT_GE(config.tasks.size(), 2u);
}

// Every commented-out credentials example of the example file loads once
// uncommented.
TEST_F(ConfigTest, ExampleCredentialsTablesLoad) {
  FileReadResult example = LocalFileSystem().ReadFile(
      SAS_SOURCE_DIR "/config/aliyun_sas_exporter.toml");
  ASSERT_TRUE(example.ok) << example.error;
  std::vector<std::string> tables;
  bool in_table = false;
  for (const std::string& line : Split(example.content, '\n')) {
    if (line == "# [account.credentials]") {
      tables.emplace_back();
      in_table = true;
    } else if (!in_table || !StartsWith(line, "# ")) {
      in_table = false;
      continue;
    }
    std::string_view text = std::string_view(line).substr(2);
    if (StartsWith(text, "# ")) continue;  // a comment of the example
    tables.back() += std::string(text) + "\n";
  }
  ASSERT_EQ(tables.size(), 7u);
  env_.Set("AUDIT_AK_SECRET", "audit-secret");
  files_.Add("/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token",
             "eyJ.token");
  std::vector<std::string> types;
  for (const std::string& table : tables) {
    Config config =
        Load(Cat({"[[account]]\nname = \"prod\"\n"
                  "region = \"cn-hangzhou\"\n",
                  table, kTask}));
    types.emplace_back(CredentialsTypeName(config.accounts[0].credentials));
  }
  EXPECT_THAT(types,
              ElementsAre("ram_role_arn", "ecs_ram_role", "oidc_role_arn",
                          "cli_profile", "credentials_file", "credentials_uri",
                          "default"));
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

namespace sas::config {
namespace {

TEST_F(ConfigTest, TaskActionDefaultsAndIsRead) {
  Config config = Load(Cat({kAccount, kTask, R"([[task]]
account = "prod"
export_id = 131231
action = "DescribeVulExportInfo"
rd_account_id = 5
)"}));
  ASSERT_EQ(config.tasks.size(), 2u);
  EXPECT_EQ(config.tasks[0].action, aliyun::ExportAction::kDescribeExportInfo);
  // The same export id under another action is another task, no duplicate.
  EXPECT_EQ(config.tasks[1].action,
            aliyun::ExportAction::kDescribeVulExportInfo);
  EXPECT_EQ(config.tasks[1].rd_account_id, 5);
}

TEST_F(ConfigTest, TaskActionErrorsNameFileLineAndFix) {
  EXPECT_THAT(
      Errors(Cat({kAccount, kTask, "action = \"DescribeVulExport\"\n"})),
      ElementsAre(
          ::testing::HasSubstr("c.toml:10:10: task[1].action: unknown action "
                               "\"DescribeVulExport\"; did you mean "
                               "\"DescribeVulExportInfo\"?")));
  EXPECT_THAT(
      Errors(Cat({kAccount, kTask,
                  "action = \"DescribeHcExportInfo\"\nrd_account_id = 5\n"})),
      ElementsAre(
          ::testing::HasSubstr("c.toml:11:17: task[1].rd_account_id: "
                               "DescribeHcExportInfo has no member-account "
                               "parameter (ResourceDirectoryAccountId): remove "
                               "rd_account_id")));
  EXPECT_THAT(
      Errors(Cat({kAccount, R"([[task]]
account = "prod"
export_id = 3000000000
action = "DescribeSuspEventExportInfo"
)"})),
      ElementsAre(::testing::HasSubstr("task[1].export_id: "
                                       "DescribeSuspEventExportInfo takes an "
                                       "ExportId of at most 2147483647")));
}

TEST_F(ConfigTest, DiscoveredActionIsRefusedAsATask) {
  EXPECT_THAT(
      Errors(Cat({kAccount, kTask, "action = \"DescribeBackUpExportInfo\"\n"})),
      ElementsAre(::testing::HasSubstr(
          "c.toml:10:10: task[1].action: DescribeBackUpExportInfo lists "
          "exports rather than polling one: its tasks are discovered, not "
          "registered; set discover_backup_exports = true on the account")));
}

TEST_F(ConfigTest, DiscoverBackUpExportsIsAnAccountSwitch) {
  constexpr char kDiscovering[] = R"([[account]]
name = "prod"
region = "cn-hangzhou"
discover_backup_exports = true
[account.credentials]
access_key_id = "LTAIexampleid"
access_key_secret_env = "PROD_SECRET"
)";
  LoadResult result = Parse(kDiscovering);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(Messages(result));
  EXPECT_TRUE(result.config->accounts[0].discover_backup_exports);
  // Discovery is something to poll: no "nothing to poll" warning.
  EXPECT_THAT(Messages(result), ::testing::IsEmpty());
  EXPECT_FALSE(
      Load(Cat({kAccount, kTask})).accounts[0].discover_backup_exports);
  std::string wrong = kDiscovering;
  wrong.replace(wrong.find("true"), 4, "\"yes\"");
  EXPECT_THAT(Errors(wrong),
              ::testing::Contains(
                  "c.toml:4:27: account[1].discover_backup_exports: expected "
                  "boolean, found string"));
}

}  // namespace
}  // namespace sas::config
