#include "credentials/fetchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "aliyun/signing.h"
#include "support/counting_nonce_source.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"
#include "support/fixture.h"
#include "support/memory_file_system.h"
#include "util/clock.h"
#include "util/file_system.h"
#include "util/nonce.h"

namespace sas::credentials {
namespace {

using ::sas::testing::CountingNonceSource;
using ::sas::testing::FakeClock;
using ::sas::testing::MemoryFileSystem;
using ::sas::testing::ReadFixture;

using aliyun::Credentials;
using aliyun::CredentialsProvider;
using aliyun::CredentialsResult;
using sas::testing::ErrorBody;
using sas::testing::FakeTransport;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr std::string_view kNow = "2023-11-14T22:13:20Z";  // FakeClock start
constexpr std::string_view kUserAgent = "aliyun_sas_exporter/0.1.0";
constexpr std::string_view kRoleArn =
    "acs:ram::1234567890123456:role/sas-reader";
constexpr std::string_view kProviderArn =
    "acs:ram::1234567890123456:oidc-provider/ack-rrsa";
constexpr std::string_view kTokenPath = "/var/run/secrets/tokens/oidc-token";

WallTime At(std::string_view iso8601) {
  WallTime t;
  EXPECT_TRUE(ParseIso8601(iso8601, &t)) << iso8601;
  return t;
}

// The decoded query parameters of a request, in order.
aliyun::Params QueryOf(const aliyun::HttpRequest& request) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  aliyun::Params params;
  if (question == std::string_view::npos) return params;
  EXPECT_TRUE(aliyun::ParseQueryString(target.substr(question + 1), &params))
      << target;
  return params;
}

std::map<std::string, std::string> QueryMap(const aliyun::HttpRequest& r) {
  std::map<std::string, std::string> map;
  for (const auto& [name, value] : QueryOf(r)) {
    EXPECT_TRUE(map.emplace(name, value).second) << "repeated " << name;
  }
  return map;
}

// Everything an error may not contain: the source's secret and token, the
// fetched secret and token, the OIDC token.
void ExpectNoSecret(const CredentialsResult& result) {
  for (std::string_view secret :
       {"SourceSecret", "SourceToken", "StsSecretValue",
        "StsSecurityTokenValue", "MetadataSecretValue",
        "MetadataSecurityTokenValue", "oidc-token-", "imds-token"}) {
    EXPECT_THAT(result.error_message, Not(HasSubstr(secret)));
  }
}

// A provider whose answer the test changes between fetches. Thread-safe.
class MutableProvider : public CredentialsProvider {
 public:
  explicit MutableProvider(CredentialsResult result) : result_(result) {}
  CredentialsResult Get() override {
    std::lock_guard lock(mutex_);
    ++calls_;
    return result_;
  }
  std::string Type() const override { return "access_key"; }
  void Set(CredentialsResult result) {
    std::lock_guard lock(mutex_);
    result_ = std::move(result);
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  CredentialsResult result_;
  int calls_ = 0;
};

CredentialsResult Keys(std::string id, std::string secret,
                       std::string token = "") {
  return {Credentials{std::move(id), std::move(secret), std::move(token), {}},
          "", ""};
}

// ---- MakeStaticFetcher ----

TEST(StaticFetcher, AnswersItsKeysAndType) {
  auto fetcher = MakeStaticFetcher(
      Credentials{"LTAI5tStaticId", "StaticSecret", "", {}}, "access_key");
  CredentialsResult result = fetcher->Fetch();
  ASSERT_TRUE(result.credentials);
  EXPECT_EQ(result.credentials->access_key_id, "LTAI5tStaticId");
  EXPECT_EQ(result.credentials->access_key_secret, "StaticSecret");
  EXPECT_FALSE(result.credentials->expiration);
  EXPECT_EQ(result.error_code, "");
  EXPECT_EQ(fetcher->Type(), "access_key");
}

// ---- MakeAssumeRoleFetcher ----

struct AssumeRoleFixture {
  FakeTransport transport;
  FakeClock clock;
  CountingNonceSource nonces;
  MutableProvider source{Keys("LTAI5tSourceId", "SourceSecret")};

  StsOptions Options() {
    StsOptions options;
    options.endpoint = {"https", "sts.cn-hangzhou.aliyuncs.com", 443};
    options.role_arn = std::string(kRoleArn);
    options.role_session_name = "sas-exporter";
    options.duration = Millis(900'000);
    options.user_agent = std::string(kUserAgent);
    return options;
  }
  std::unique_ptr<CredentialsFetcher> Make(StsOptions options) {
    return MakeAssumeRoleFetcher(std::move(options), source, transport, clock,
                                 nonces);
  }
};

// Checks the V1 signature of request against the secret.
void ExpectSignedV1(const aliyun::HttpRequest& request,
                    std::string_view secret) {
  aliyun::Params params;
  std::string signature;
  for (auto& [name, value] : QueryOf(request)) {
    if (name == "Signature") {
      signature = value;
    } else {
      params.emplace_back(name, value);
    }
  }
  ASSERT_FALSE(signature.empty());
  EXPECT_EQ(signature, aliyun::SignV1(request.method, params, secret));
}

TEST(AssumeRoleFetcher, SendsAV1SignedAssumeRole) {
  AssumeRoleFixture f;
  StsOptions options = f.Options();
  options.policy = "{\"Version\":\"1\",\"Statement\":[]}";
  options.external_id = "ext-id 1";
  auto fetcher = f.Make(options);
  f.transport.PushResponse(200,
                           ReadFixture("credentials/sts_assume_role.json"));

  CredentialsResult result = fetcher->Fetch();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.StsKeyId");
  EXPECT_EQ(result.credentials->access_key_secret, "StsSecretValue");
  EXPECT_EQ(result.credentials->security_token, "StsSecurityTokenValue");
  EXPECT_EQ(result.credentials->expiration, At("2023-11-14T23:13:20Z"));
  EXPECT_EQ(fetcher->Type(), "ram_role_arn");

  ASSERT_EQ(f.transport.requests().size(), 1u);
  const aliyun::HttpRequest request = f.transport.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.endpoint, options.endpoint);
  EXPECT_EQ(request.body, "");
  EXPECT_THAT(request.headers,
              ElementsAre(Pair("host", "sts.cn-hangzhou.aliyuncs.com"),
                          Pair("accept", "application/json"),
                          Pair("user-agent", std::string(kUserAgent))));
  std::map<std::string, std::string> query = QueryMap(request);
  EXPECT_THAT(
      query,
      UnorderedElementsAre(
          Pair("Action", "AssumeRole"), Pair("Version", "2015-04-01"),
          Pair("RoleArn", std::string(kRoleArn)),
          Pair("RoleSessionName", "sas-exporter"),
          Pair("DurationSeconds", "900"), Pair("Policy", options.policy),
          Pair("ExternalId", "ext-id 1"), Pair("Format", "JSON"),
          Pair("AccessKeyId", "LTAI5tSourceId"),
          Pair("SignatureMethod", "HMAC-SHA1"), Pair("SignatureVersion", "1.0"),
          Pair("SignatureNonce", "nonce-1"),
          Pair("Timestamp", std::string(kNow)),
          Pair("Signature", ::testing::_)));
  ExpectSignedV1(request, "SourceSecret");
}

TEST(AssumeRoleFetcher, OmitsAnEmptyPolicyAndExternalId) {
  AssumeRoleFixture f;
  auto fetcher = f.Make(f.Options());
  f.transport.PushResponse(200,
                           ReadFixture("credentials/sts_assume_role.json"));
  ASSERT_TRUE(fetcher->Fetch().credentials);
  std::map<std::string, std::string> query =
      QueryMap(f.transport.requests()[0]);
  EXPECT_EQ(query.count("Policy"), 0u);
  EXPECT_EQ(query.count("ExternalId"), 0u);
  EXPECT_EQ(query.count("SecurityToken"), 0u);
}

TEST(AssumeRoleFetcher, TakesTheSourceCredentialsAtEveryFetch) {
  AssumeRoleFixture f;
  auto fetcher = f.Make(f.Options());
  f.transport.PushResponse(200,
                           ReadFixture("credentials/sts_assume_role.json"));
  f.transport.PushResponse(200,
                           ReadFixture("credentials/sts_assume_role.json"));
  ASSERT_TRUE(fetcher->Fetch().credentials);

  // The source now holds STS credentials of its own (a chained role).
  f.source.Set(Keys("STS.SourceId2", "SourceSecret2", "SourceToken2"));
  f.clock.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(fetcher->Fetch().credentials);
  EXPECT_EQ(f.source.calls(), 2);

  ASSERT_EQ(f.transport.requests().size(), 2u);
  const aliyun::HttpRequest second = f.transport.requests()[1];
  std::map<std::string, std::string> query = QueryMap(second);
  EXPECT_EQ(query["AccessKeyId"], "STS.SourceId2");
  EXPECT_EQ(query["SecurityToken"], "SourceToken2");
  EXPECT_EQ(query["SignatureNonce"], "nonce-2");
  EXPECT_EQ(query["Timestamp"], "2023-11-14T22:14:20Z");
  ExpectSignedV1(second, "SourceSecret2");
}

TEST(AssumeRoleFetcher, ReturnsTheSourceErrorAsIs) {
  AssumeRoleFixture f;
  f.source.Set({std::nullopt, "EnvironmentVariableUnset",
                "ALIBABA_CLOUD_ACCESS_KEY_ID is not set"});
  auto fetcher = f.Make(f.Options());
  CredentialsResult result = fetcher->Fetch();
  EXPECT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "EnvironmentVariableUnset");
  EXPECT_EQ(result.error_message, "ALIBABA_CLOUD_ACCESS_KEY_ID is not set");
  EXPECT_TRUE(f.transport.requests().empty());
}

TEST(AssumeRoleFetcher, MapsTransportFailuresToTheClientsCodes) {
  const std::pair<aliyun::TransportError, std::string> cases[] = {
      {aliyun::TransportError::kTimeout, "timeout"},
      {aliyun::TransportError::kConnection, "connection"},
      {aliyun::TransportError::kTls, "tls"},
      {aliyun::TransportError::kBodyTooLarge, "bad_response"},
      {aliyun::TransportError::kCancelled, "cancelled"},
  };
  for (const auto& [error, code] : cases) {
    AssumeRoleFixture f;
    auto fetcher = f.Make(f.Options());
    f.transport.PushError(error);
    CredentialsResult result = fetcher->Fetch();
    EXPECT_FALSE(result.credentials);
    EXPECT_EQ(result.error_code, code);
    EXPECT_THAT(result.error_message,
                HasSubstr("STS AssumeRole of " + std::string(kRoleArn)));
    ExpectNoSecret(result);
  }
}

TEST(AssumeRoleFetcher, ReportsTheStsError) {
  AssumeRoleFixture f;
  auto fetcher = f.Make(f.Options());
  f.transport.PushResponse(
      403, ReadFixture("credentials/sts_error_no_permission.json"));
  CredentialsResult result = fetcher->Fetch();
  EXPECT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "NoPermission");
  EXPECT_THAT(result.error_message,
              HasSubstr("STS AssumeRole of " + std::string(kRoleArn) +
                        ": HTTP 403 NoPermission: You are not authorized"));
  ExpectNoSecret(result);
}

TEST(AssumeRoleFetcher, RejectsAnUnusableAnswer) {
  AssumeRoleFixture f;
  auto fetcher = f.Make(f.Options());
  f.transport.PushResponse(200, "{\"RequestId\": \"r\"}");
  CredentialsResult result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "InvalidCredentials");
  ExpectNoSecret(result);
}

// ---- MakeOidcFetcher ----

struct OidcFixture {
  FakeTransport transport;
  FakeClock clock;
  CountingNonceSource nonces;
  MemoryFileSystem files;

  OidcOptions Options() {
    OidcOptions options;
    options.endpoint = {"https", "sts-vpc.cn-hangzhou.aliyuncs.com", 443};
    options.role_arn = std::string(kRoleArn);
    options.oidc_provider_arn = std::string(kProviderArn);
    options.oidc_token_file = std::string(kTokenPath);
    options.user_agent = std::string(kUserAgent);
    return options;
  }
  std::unique_ptr<CredentialsFetcher> Make() {
    return MakeOidcFetcher(Options(), files, transport, clock, nonces);
  }
};

TEST(OidcFetcher, SendsAnUnsignedAssumeRoleWithOidc) {
  OidcFixture f;
  f.files.Add(std::string(kTokenPath), "  oidc-token-1.a+b/c=\n");
  auto fetcher = f.Make();
  f.transport.PushResponse(200,
                           ReadFixture("credentials/sts_assume_role.json"));

  CredentialsResult result = fetcher->Fetch();
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.StsKeyId");
  EXPECT_EQ(result.credentials->expiration, At("2023-11-14T23:13:20Z"));
  EXPECT_EQ(fetcher->Type(), "oidc_role_arn");

  ASSERT_EQ(f.transport.requests().size(), 1u);
  const aliyun::HttpRequest request = f.transport.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.endpoint, f.Options().endpoint);
  EXPECT_EQ(request.body, "");
  EXPECT_THAT(request.headers,
              ElementsAre(Pair("host", "sts-vpc.cn-hangzhou.aliyuncs.com"),
                          Pair("accept", "application/json"),
                          Pair("user-agent", std::string(kUserAgent))));
  aliyun::Params expected = {
      {"Action", "AssumeRoleWithOIDC"},
      {"DurationSeconds", "3600"},
      {"Format", "JSON"},
      {"OIDCProviderArn", std::string(kProviderArn)},
      {"OIDCToken", "oidc-token-1.a+b/c="},
      {"RoleArn", std::string(kRoleArn)},
      {"RoleSessionName", "aliyun_sas_exporter"},
      {"SignatureNonce", "nonce-1"},
      {"Timestamp", std::string(kNow)},
      {"Version", "2015-04-01"},
  };
  // Sorted and RFC 3986 encoded, as CanonicalQueryString makes it.
  EXPECT_EQ(request.target, "/?" + aliyun::CanonicalQueryString(expected));
  EXPECT_EQ(QueryOf(request), expected);
  EXPECT_THAT(request.target, HasSubstr("OIDCToken=oidc-token-1.a%2Bb%2Fc%3D"));
}

TEST(OidcFetcher, RereadsTheTokenFileAtEveryFetch) {
  OidcFixture f;
  f.files.Add(std::string(kTokenPath), "oidc-token-1");
  auto fetcher = f.Make();
  f.transport.PushResponse(200,
                           ReadFixture("credentials/sts_assume_role.json"));
  f.transport.PushResponse(200,
                           ReadFixture("credentials/sts_assume_role.json"));
  ASSERT_TRUE(fetcher->Fetch().credentials);
  f.files.Add(std::string(kTokenPath), "oidc-token-2\r\n");  // rotated
  ASSERT_TRUE(fetcher->Fetch().credentials);

  ASSERT_EQ(f.transport.requests().size(), 2u);
  EXPECT_EQ(QueryMap(f.transport.requests()[0])["OIDCToken"], "oidc-token-1");
  EXPECT_EQ(QueryMap(f.transport.requests()[1])["OIDCToken"], "oidc-token-2");
  EXPECT_EQ(QueryMap(f.transport.requests()[1])["SignatureNonce"], "nonce-2");
}

TEST(OidcFetcher, ReportsAnUnreadableTokenFileByPath) {
  OidcFixture f;
  auto fetcher = f.Make();
  CredentialsResult result = fetcher->Fetch();
  EXPECT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "OIDCTokenFileUnreadable");
  EXPECT_EQ(result.error_message, "cannot read the OIDC token file " +
                                      std::string(kTokenPath) +
                                      ": No such file or directory");
  EXPECT_TRUE(f.transport.requests().empty());
}

TEST(OidcFetcher, ReportsAnEmptyTokenFile) {
  OidcFixture f;
  f.files.Add(std::string(kTokenPath), " \n");
  auto fetcher = f.Make();
  CredentialsResult result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "OIDCTokenFileUnreadable");
  EXPECT_EQ(result.error_message,
            "the OIDC token file " + std::string(kTokenPath) + " is empty");
  EXPECT_TRUE(f.transport.requests().empty());
}

TEST(OidcFetcher, ReportsStsAndTransportErrorsWithoutTheToken) {
  OidcFixture f;
  f.files.Add(std::string(kTokenPath), "oidc-token-1");
  auto fetcher = f.Make();
  f.transport.PushResponse(
      400, ErrorBody("InvalidParameter.OIDCToken", "Invalid token."));
  f.transport.PushError(aliyun::TransportError::kTimeout);

  CredentialsResult result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "InvalidParameter.OIDCToken");
  EXPECT_THAT(result.error_message,
              HasSubstr("STS AssumeRoleWithOIDC of " + std::string(kRoleArn)));
  ExpectNoSecret(result);

  result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "timeout");
  ExpectNoSecret(result);
}

// ---- MakeEcsRamRoleFetcher ----

const aliyun::Endpoint kMetadata{"http", "100.100.100.200", 80};
constexpr std::string_view kCredentialsPath =
    "/latest/meta-data/ram/security-credentials/";

void ExpectTokenRequest(const aliyun::HttpRequest& request) {
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.endpoint, kMetadata);
  EXPECT_EQ(request.target, "/latest/api/token");
  EXPECT_EQ(request.body, "");
  EXPECT_THAT(
      request.headers,
      ElementsAre(Pair("host", "100.100.100.200"),
                  Pair("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")));
}

// A GET of target, with the IMDSv2 token when token is not empty.
void ExpectGet(const aliyun::HttpRequest& request, std::string_view target,
               std::string_view token) {
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.endpoint, kMetadata);
  EXPECT_EQ(request.target, target);
  EXPECT_EQ(request.body, "");
  if (token.empty()) {
    EXPECT_THAT(request.headers, ElementsAre(Pair("host", "100.100.100.200")));
  } else {
    EXPECT_THAT(request.headers,
                ElementsAre(Pair("host", "100.100.100.200"),
                            Pair("X-aliyun-ecs-metadata-token", token)));
  }
}

void ExpectMetadataCredentials(const CredentialsResult& result) {
  ASSERT_TRUE(result.credentials) << result.error_message;
  EXPECT_EQ(result.credentials->access_key_id, "STS.MetadataKeyId");
  EXPECT_EQ(result.credentials->access_key_secret, "MetadataSecretValue");
  EXPECT_EQ(result.credentials->security_token, "MetadataSecurityTokenValue");
  EXPECT_EQ(result.credentials->expiration, At("2023-11-15T04:13:20Z"));
}

TEST(EcsRamRoleFetcher, DiscoversTheRoleWithAnImdsV2Token) {
  FakeTransport transport;
  auto fetcher = MakeEcsRamRoleFetcher({}, transport);
  transport.PushResponse(200, "imds-token-1\n");
  transport.PushResponse(200, "EcsSasRole \nOtherRole\n");
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));

  ExpectMetadataCredentials(fetcher->Fetch());
  EXPECT_EQ(fetcher->Type(), "ecs_ram_role");

  std::vector<aliyun::HttpRequest> requests = transport.requests();
  ASSERT_EQ(requests.size(), 3u);
  ExpectTokenRequest(requests[0]);
  ExpectGet(requests[1], kCredentialsPath, "imds-token-1");
  ExpectGet(requests[2], std::string(kCredentialsPath) + "EcsSasRole",
            "imds-token-1");
}

TEST(EcsRamRoleFetcher, KeepsTheDiscoveredRoleForLaterFetches) {
  FakeTransport transport;
  auto fetcher = MakeEcsRamRoleFetcher({}, transport);
  transport.PushResponse(200, "imds-token-1");
  transport.PushResponse(200, "EcsSasRole");
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));
  transport.PushResponse(200, "imds-token-2");
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));

  ExpectMetadataCredentials(fetcher->Fetch());
  ExpectMetadataCredentials(fetcher->Fetch());

  std::vector<aliyun::HttpRequest> requests = transport.requests();
  ASSERT_EQ(requests.size(), 5u);
  ExpectTokenRequest(requests[3]);
  ExpectGet(requests[4], std::string(kCredentialsPath) + "EcsSasRole",
            "imds-token-2");
}

TEST(EcsRamRoleFetcher, RediscoversTheRoleWhenItsCredentialsAreGone) {
  FakeTransport transport;
  auto fetcher = MakeEcsRamRoleFetcher({}, transport);
  transport.PushResponse(200, "t");
  transport.PushResponse(200, "OldRole");
  transport.PushResponse(404, "");
  transport.PushResponse(200, "t");
  transport.PushResponse(200, "NewRole");
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));

  CredentialsResult result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "MetadataServiceError");
  EXPECT_EQ(result.error_message,
            "ECS metadata service answered HTTP 404 for role OldRole");
  ExpectMetadataCredentials(fetcher->Fetch());
  std::vector<aliyun::HttpRequest> requests = transport.requests();
  ASSERT_EQ(requests.size(), 6u);
  ExpectGet(requests[4], kCredentialsPath, "t");
  ExpectGet(requests[5], std::string(kCredentialsPath) + "NewRole", "t");
}

TEST(EcsRamRoleFetcher, UsesTheConfiguredRoleWithoutDiscovery) {
  FakeTransport transport;
  EcsMetadataOptions options;
  options.role_name = "EcsSasRole";
  options.endpoint = {"http", "127.0.0.1", 8081};
  auto fetcher = MakeEcsRamRoleFetcher(options, transport);
  transport.PushResponse(200, "imds-token-1");
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));

  ExpectMetadataCredentials(fetcher->Fetch());
  std::vector<aliyun::HttpRequest> requests = transport.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].endpoint, options.endpoint);
  EXPECT_EQ(requests[1].target, std::string(kCredentialsPath) + "EcsSasRole");
  EXPECT_THAT(requests[1].headers,
              ElementsAre(Pair("host", "127.0.0.1:8081"),
                          Pair("X-aliyun-ecs-metadata-token", "imds-token-1")));
}

TEST(EcsRamRoleFetcher, FallsBackToImdsV1WhenTheTokenRequestFails) {
  FakeTransport transport;
  auto fetcher = MakeEcsRamRoleFetcher({}, transport);
  transport.PushError(aliyun::TransportError::kTimeout);
  transport.PushResponse(200, "EcsSasRole");
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));
  transport.PushResponse(403, "forbidden");
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));

  ExpectMetadataCredentials(fetcher->Fetch());
  ExpectMetadataCredentials(fetcher->Fetch());
  std::vector<aliyun::HttpRequest> requests = transport.requests();
  ASSERT_EQ(requests.size(), 5u);
  ExpectTokenRequest(requests[0]);
  ExpectGet(requests[1], kCredentialsPath, "");
  ExpectGet(requests[2], std::string(kCredentialsPath) + "EcsSasRole", "");
  ExpectTokenRequest(requests[3]);
  ExpectGet(requests[4], std::string(kCredentialsPath) + "EcsSasRole", "");
}

TEST(EcsRamRoleFetcher, FailsWithoutATokenWhenImdsV1IsDisabled) {
  EcsMetadataOptions options;
  options.imds_v1_disabled = true;
  {
    FakeTransport transport;
    auto fetcher = MakeEcsRamRoleFetcher(options, transport);
    transport.PushResponse(403, "");
    CredentialsResult result = fetcher->Fetch();
    EXPECT_FALSE(result.credentials);
    EXPECT_EQ(result.error_code, "MetadataTokenUnavailable");
    EXPECT_EQ(result.error_message,
              "ECS metadata service gave no IMDSv2 token (HTTP 403) and "
              "IMDSv1 is disabled");
    EXPECT_EQ(transport.requests().size(), 1u);
  }
  {
    FakeTransport transport;
    auto fetcher = MakeEcsRamRoleFetcher(options, transport);
    transport.PushError(aliyun::TransportError::kConnection);
    CredentialsResult result = fetcher->Fetch();
    EXPECT_EQ(result.error_code, "MetadataTokenUnavailable");
    EXPECT_THAT(result.error_message, HasSubstr("connection failed"));
    EXPECT_EQ(transport.requests().size(), 1u);
  }
  {
    // With a token, v1 being disabled changes nothing.
    FakeTransport transport;
    auto fetcher = MakeEcsRamRoleFetcher(options, transport);
    transport.PushResponse(200, "imds-token-1");
    transport.PushResponse(200, "EcsSasRole");
    transport.PushResponse(
        200, ReadFixture("credentials/metadata_credentials.json"));
    ExpectMetadataCredentials(fetcher->Fetch());
  }
}

TEST(EcsRamRoleFetcher, StopsAtShutdown) {
  FakeTransport transport;
  auto fetcher = MakeEcsRamRoleFetcher({}, transport);
  transport.CancelAll();
  CredentialsResult result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "cancelled");
  EXPECT_EQ(transport.requests().size(), 1u);
}

TEST(EcsRamRoleFetcher, ReportsErrorAnswers) {
  struct Case {
    std::string name;
    std::function<void(FakeTransport&)> script;
    std::string code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no role attached",
       [](FakeTransport& t) {
         t.PushResponse(200, "t");
         t.PushResponse(404, "<html>not found</html>");
       },
       "MetadataServiceError",
       "ECS metadata service answered HTTP 404 for role discovery"},
      {"empty listing",
       [](FakeTransport& t) {
         t.PushResponse(200, "t");
         t.PushResponse(200, "\n");
       },
       "MetadataServiceError",
       "ECS metadata service: no RAM role is attached to the instance"},
      {"listing times out",
       [](FakeTransport& t) {
         t.PushResponse(200, "t");
         t.PushError(aliyun::TransportError::kTimeout);
       },
       "timeout",
       "ECS metadata service (role discovery): request timed out: injected"},
      {"credentials 500",
       [](FakeTransport& t) {
         t.PushResponse(200, "t");
         t.PushResponse(200, "EcsSasRole");
         t.PushResponse(500, "MetadataSecretValue");
       },
       "MetadataServiceError",
       "ECS metadata service answered HTTP 500 for role EcsSasRole"},
      {"credentials refused",
       [](FakeTransport& t) {
         t.PushResponse(200, "t");
         t.PushResponse(200, "EcsSasRole");
         t.PushError(aliyun::TransportError::kConnection);
       },
       "connection",
       "ECS metadata service (role EcsSasRole): connection failed: injected"},
      {"code not success",
       [](FakeTransport& t) {
         t.PushResponse(200, "t");
         t.PushResponse(200, "EcsSasRole");
         t.PushResponse(200,
                        "{\"Code\": \"Failed\", \"AccessKeySecret\": "
                        "\"MetadataSecretValue\"}");
       },
       "InvalidCredentials",
       "ECS metadata service (role EcsSasRole): credentials answer has Code "
       "\"Failed\", not \"Success\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeTransport transport;
    auto fetcher = MakeEcsRamRoleFetcher({}, transport);
    c.script(transport);
    CredentialsResult result = fetcher->Fetch();
    EXPECT_FALSE(result.credentials);
    EXPECT_EQ(result.error_code, c.code);
    EXPECT_EQ(result.error_message, c.message);
    ExpectNoSecret(result);
  }
}

// ---- MakeCredentialsUriFetcher ----

TEST(CredentialsUriFetcher, GetsTheUriAndReadsTheAnswer) {
  FakeTransport transport;
  auto fetcher = MakeCredentialsUriFetcher(
      "http://127.0.0.1:8080/v1/credentials?role=sas#frag", transport);
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));
  ExpectMetadataCredentials(fetcher->Fetch());
  EXPECT_EQ(fetcher->Type(), "credentials_uri");

  ASSERT_EQ(transport.requests().size(), 1u);
  const aliyun::HttpRequest request = transport.requests()[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.endpoint, (aliyun::Endpoint{"http", "127.0.0.1", 8080}));
  EXPECT_EQ(request.target, "/v1/credentials?role=sas");
  EXPECT_THAT(request.headers, ElementsAre(Pair("host", "127.0.0.1:8080"),
                                           Pair("accept", "application/json")));
}

TEST(CredentialsUriFetcher, DefaultsThePathAndPort) {
  FakeTransport transport;
  auto fetcher = MakeCredentialsUriFetcher("HTTPS://creds.example", transport);
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));
  transport.PushResponse(200,
                         ReadFixture("credentials/metadata_credentials.json"));
  ExpectMetadataCredentials(fetcher->Fetch());
  EXPECT_EQ(transport.requests()[0].endpoint,
            (aliyun::Endpoint{"https", "creds.example", 443}));
  EXPECT_EQ(transport.requests()[0].target, "/");

  auto query_only =
      MakeCredentialsUriFetcher("http://creds.example?x=1", transport);
  ExpectMetadataCredentials(query_only->Fetch());
  EXPECT_EQ(transport.requests()[1].target, "/?x=1");
}

TEST(CredentialsUriFetcher, RejectsABadUriWithoutQuotingIt) {
  for (std::string uri : {"ftp://creds.example/", "creds.example/path",
                          "http://user:pw-SECRET@"
                          "creds.example/",
                          "http://creds.example/a b", "http:///path"}) {
    SCOPED_TRACE(uri);
    FakeTransport transport;
    auto fetcher = MakeCredentialsUriFetcher(uri, transport);
    CredentialsResult result = fetcher->Fetch();
    EXPECT_FALSE(result.credentials);
    EXPECT_EQ(result.error_code, "InvalidCredentialsUri");
    EXPECT_THAT(result.error_message, Not(HasSubstr("SECRET")));
    EXPECT_THAT(result.error_message, Not(HasSubstr("creds.example")));
    EXPECT_TRUE(transport.requests().empty());
  }
}

TEST(CredentialsUriFetcher, ReportsErrorAnswers) {
  FakeTransport transport;
  auto fetcher = MakeCredentialsUriFetcher(
      "http://127.0.0.1:8080/creds?token=uri-SECRET", transport);
  transport.PushResponse(503, "MetadataSecretValue");
  transport.PushError(aliyun::TransportError::kConnection);
  transport.PushResponse(200, "{\"Code\": \"Success\"}");

  CredentialsResult result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "MetadataServiceError");
  EXPECT_EQ(result.error_message,
            "credentials URI http://127.0.0.1:8080 answered HTTP 503");
  result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "connection");
  EXPECT_THAT(result.error_message, Not(HasSubstr("uri-SECRET")));
  result = fetcher->Fetch();
  EXPECT_EQ(result.error_code, "InvalidCredentials");
  EXPECT_EQ(result.error_message,
            "credentials URI http://127.0.0.1:8080: credentials answer lacks "
            "AccessKeyId");
  ExpectNoSecret(result);
}

}  // namespace
}  // namespace sas::credentials
