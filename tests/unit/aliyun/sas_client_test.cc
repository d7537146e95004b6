#include "aliyun/sas_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "aliyun/retry.h"
#include "support/counting_nonce_source.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"
#include "support/static_credentials_provider.h"

namespace sas::aliyun {
namespace {

using ::sas::testing::CountingNonceSource;
using ::sas::testing::FakeClock;
using ::sas::testing::FakeSleeper;

using sas::testing::ErrorBody;
using sas::testing::ExportInfoBody;
using sas::testing::FakeTransport;
using ::testing::HasSubstr;
using ::testing::Not;

struct RecordedAttempt {
  std::string account, action, code;
};

class RecordingObserver : public ApiObserver {
 public:
  void OnAttempt(std::string_view account, std::string_view action,
                 std::chrono::duration<double>,
                 const ApiError* error) override {
    attempts.push_back(
        {std::string(account), std::string(action), error ? error->code : ""});
  }
  std::vector<RecordedAttempt> attempts;
};

class SasClientTest : public ::testing::Test {
 protected:
  SasClient MakeClient(int max_retries = 2, TokenBucket* bucket = nullptr) {
    SasClientOptions options;
    options.account = "prod";
    options.endpoint = Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443};
    options.retry.max_retries = max_retries;
    options.user_agent = "aliyun_sas_exporter/test";
    return SasClient(options, transport_, credentials_, clock_, nonces_,
                     sleeper_, bucket, &observer_);
  }
  SteadyTime Deadline(std::chrono::seconds in = std::chrono::seconds(60)) {
    return clock_.SteadyNow() + in;
  }

  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
  CountingNonceSource nonces_;
  FakeTransport transport_;
  testing::StaticCredentialsProvider credentials_{
      {"AKID", "SECRET-VALUE", "", std::nullopt}, "access_key"};
  RecordingObserver observer_;
};

TEST_F(SasClientTest, SendsSignedQueryWithExportAndMemberAccount) {
  transport_.PushResponse(200,
                          ExportInfoBody(131231, 16, 20, 100, "exporting"));
  SasClient client = MakeClient();
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 131231, 16670360956}, Deadline());
  ASSERT_TRUE(result.ok()) << result.error().code;
  EXPECT_EQ(result.info().progress, 16);
  std::vector<HttpRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target,
            "/?ExportId=131231&ResourceDirectoryAccountId=16670360956");
  EXPECT_TRUE(request.body.empty());
  std::map<std::string, std::string> headers(request.headers.begin(),
                                             request.headers.end());
  EXPECT_EQ(headers["x-acs-action"], "DescribeExportInfo");
  EXPECT_EQ(headers["x-acs-version"], "2018-12-03");
  EXPECT_EQ(headers["accept"], "application/json");
  EXPECT_EQ(headers["user-agent"], "aliyun_sas_exporter/test");
  EXPECT_THAT(headers["authorization"],
              HasSubstr("ACS3-HMAC-SHA256 Credential=AKID,"));
  EXPECT_EQ(result.attempts, 1);
  ASSERT_EQ(observer_.attempts.size(), 1u);
  EXPECT_EQ(observer_.attempts[0].code, "");
}

TEST_F(SasClientTest, RetriesServerErrorsWithFreshNonceAndSignature) {
  transport_.PushResponse(503, ErrorBody("ServiceUnavailable", "busy"));
  transport_.PushResponse(500, ErrorBody("InternalError", "oops"));
  transport_.PushResponse(200, ExportInfoBody(1, 50, 5, 10, "exporting"));
  SasClient client = MakeClient();
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.attempts, 3);
  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 3u);
  std::set<std::string> nonces, authorizations;
  for (const auto& request : requests) {
    for (const auto& [name, value] : request.headers) {
      if (name == "x-acs-signature-nonce") nonces.insert(value);
      if (name == "authorization") authorizations.insert(value);
    }
  }
  EXPECT_EQ(nonces.size(), 3u);
  EXPECT_EQ(authorizations.size(), 3u);
  ASSERT_EQ(observer_.attempts.size(), 3u);
  EXPECT_EQ(observer_.attempts[0].code, "ServiceUnavailable");
  EXPECT_EQ(observer_.attempts[1].code, "InternalError");
  EXPECT_EQ(sleeper_.sleeps().size(), 2u);
}

TEST_F(SasClientTest, GivesUpAfterMaxRetries) {
  for (int i = 0; i < 5; ++i) {
    transport_.PushError(TransportError::kTimeout);
  }
  SasClient client = MakeClient(/*max_retries=*/2);
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "timeout");
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(SasClientTest, DoesNotRetryPermanentErrors) {
  for (const char* code : {"SignatureDoesNotMatch", "NoPermission",
                           "InvalidAccessKeyId.NotFound", "MissingParameter"}) {
    FakeTransport transport;
    transport.PushResponse(400, ErrorBody(code, "no"));
    transport.PushResponse(200, ExportInfoBody(1, 1, 1, 1, "init"));
    SasClientOptions options;
    options.account = "prod";
    options.endpoint = Endpoint{"https", "h", 443};
    SasClient client(options, transport, credentials_, clock_, nonces_,
                     sleeper_, nullptr, nullptr);
    CallResult result = client.DescribeExport(
        {kDefaultExportAction, 1, std::nullopt}, Deadline());
    ASSERT_FALSE(result.ok()) << code;
    EXPECT_EQ(result.error().code, code);
    EXPECT_EQ(transport.requests().size(), 1u) << code;
  }
}

TEST_F(SasClientTest, HonoursRetryAfter) {
  transport_.PushResponse(400, ErrorBody("Throttling.User", "slow down"),
                          {{"x-acs-retry-after", "1500"}});
  transport_.PushResponse(200, ExportInfoBody(1, 1, 1, 1, "init"));
  SasClient client = MakeClient();
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_GE(sleeper_.sleeps()[0], std::chrono::milliseconds(1500));
}

TEST_F(SasClientTest, AnyErrorWithRetryAfterIsThrottledAndWaitsExactly) {
  // A 429 (or a 403 with a permission code) carrying x-acs-retry-after is
  // throttling, as the official client decides: retried after that delay.
  transport_.PushResponse(429, ErrorBody("TooManyRequests", "slow down"),
                          {{"x-acs-retry-after", "80"}});
  transport_.PushResponse(403, ErrorBody("NoPermission", "busy"),
                          {{"x-acs-retry-after", "120"}});
  transport_.PushResponse(200, ExportInfoBody(1, 1, 1, 1, "init"));
  SasClient client = MakeClient();
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_TRUE(result.ok()) << result.error().code;
  EXPECT_EQ(result.attempts, 3);
  ASSERT_EQ(sleeper_.sleeps().size(), 2u);
  EXPECT_EQ(sleeper_.sleeps()[0], std::chrono::milliseconds(80));
  EXPECT_EQ(sleeper_.sleeps()[1], std::chrono::milliseconds(120));
}

TEST_F(SasClientTest, SendsTheActionAndOnlyItsParameters) {
  transport_.PushResponse(200,
                          R"({"RequestId": "r", "ResultStatus": "success"})");
  transport_.PushResponse(200, R"({"RequestId": "r", "ExportStatus": "0"})");
  SasClient client = MakeClient();
  ASSERT_TRUE(client
                  .DescribeExport(
                      {ExportAction::kDescribeHcExportInfo, 5, std::nullopt},
                      Deadline())
                  .ok());
  CallResult report = client.DescribeExport(
      {ExportAction::kDescribeReportExport, 6, 77}, Deadline());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.info().export_status, "0");
  std::vector<HttpRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u);
  auto text = [](const HttpRequest& request) {
    std::string out = request.target + request.body;
    for (const auto& [name, value] : request.headers) {
      out += name + ":" + value + "\n";
    }
    return out;
  };
  std::string first = text(requests[0]);
  EXPECT_THAT(first, HasSubstr("DescribeHcExportInfo"));
  std::string second = text(requests[1]);
  EXPECT_THAT(second, HasSubstr("DescribeReportExport"));
  // DescribeReportExport has no ResourceDirectoryAccountId: never sent.
  EXPECT_THAT(second, Not(HasSubstr("ResourceDirectoryAccountId")));
}

TEST_F(SasClientTest, StopsRetryingAtTheDeadline) {
  transport_.PushResponse(400, ErrorBody("Throttling.User", "slow down"),
                          {{"x-acs-retry-after", "5000"}});
  transport_.PushResponse(200, ExportInfoBody(1, 1, 1, 1, "init"));
  SasClient client = MakeClient();
  CallResult result =
      client.DescribeExport({kDefaultExportAction, 1, std::nullopt},
                            Deadline(std::chrono::seconds(2)));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "Throttling.User");
  EXPECT_EQ(transport_.requests().size(), 1u);
  EXPECT_TRUE(sleeper_.sleeps().empty());
}

TEST_F(SasClientTest, AHugeRetryAfterWaitsAtMostTheMaximum) {
  transport_.PushResponse(400, ErrorBody("Throttling.User", "slow down"),
                          {{"x-acs-retry-after", "9223372036854775807"}});
  transport_.PushResponse(200, ExportInfoBody(1, 1, 1, 1, "init"));
  SasClient client = MakeClient();
  CallResult result =
      client.DescribeExport({kDefaultExportAction, 1, std::nullopt},
                            SteadyTime::max() - std::chrono::hours(1));
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(sleeper_.sleeps()[0], kMaxRetryAfter);
}

TEST_F(SasClientTest, RetriesWaitForTheAccountRateLimit) {
  TokenBucket bucket(/*rate=*/1, /*burst=*/1, clock_);
  bucket.Reserve();  // the first attempt's token, taken by the poller
  transport_.PushResponse(500, ErrorBody("ServerError", "ServerError"));
  transport_.PushResponse(200, ExportInfoBody(1, 1, 1, 1, "init"));
  SasClient client = MakeClient(2, &bucket);
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_GE(sleeper_.sleeps()[0], std::chrono::milliseconds(1000));
}

TEST_F(SasClientTest, ErrorMessagesCarryNoSecrets) {
  transport_.PushResponse(
      400, ErrorBody("SignatureDoesNotMatch",
                     "Specified signature is not matched with our "
                     "calculation. server string to sign is:POST&%2F&"
                     "AccessKeyId%3DAKID"));
  SasClient client = MakeClient();
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, Not(HasSubstr("AKID")));
  EXPECT_THAT(result.error().message, Not(HasSubstr("SECRET-VALUE")));
}

TEST_F(SasClientTest, SuccessNeverKeepsTheDownloadLink) {
  transport_.PushResponse(200, ExportInfoBody(1, 100, 10, 10, "success"));
  SasClient client = MakeClient();
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_TRUE(result.ok());
  const ExportInfo& info = result.info();
  for (const std::optional<std::string>* field :
       {&info.export_status, &info.file_name, &info.message}) {
    EXPECT_THAT(field->value_or(""), Not(HasSubstr("SECRETLINK")));
  }
  EXPECT_THAT(info.request_id, Not(HasSubstr("SECRETLINK")));
}

TEST_F(SasClientTest, CredentialFailureIsAnErrorWithoutARequest) {
  class NoCredentials : public aliyun::CredentialsProvider {
   public:
    aliyun::CredentialsResult Get() override {
      return {std::nullopt, "EnvironmentVariableUnset", "no keys"};
    }
    std::string Type() const override { return "default"; }
  } none;
  SasClientOptions options;
  options.account = "prod";
  SasClient client(options, transport_, none, clock_, nonces_, sleeper_,
                   nullptr, &observer_);
  CallResult result = client.DescribeExport(
      {kDefaultExportAction, 1, std::nullopt}, Deadline());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "credentials");
  EXPECT_TRUE(transport_.requests().empty());
}

TEST(RetryPolicy, BackoffIsFullJitterCappedUnlessTheServerSaidWhen) {
  RetryPolicy policy;
  policy.base = std::chrono::milliseconds(200);
  policy.cap = std::chrono::milliseconds(1000);
  EXPECT_EQ(BackoffDelay(policy, 1, Millis(0), 0.0), Millis(0));
  EXPECT_EQ(BackoffDelay(policy, 1, Millis(0), 0.5), Millis(100));
  EXPECT_EQ(BackoffDelay(policy, 2, Millis(0), 0.5), Millis(200));
  EXPECT_EQ(BackoffDelay(policy, 3, Millis(0), 0.999), Millis(799));
  EXPECT_EQ(BackoffDelay(policy, 10, Millis(0), 0.5), Millis(500));
  EXPECT_EQ(BackoffDelay(policy, 1, Millis(3000), 0.5), Millis(3000));
  // x-acs-retry-after is the wait, not a floor under the jitter.
  EXPECT_EQ(BackoffDelay(policy, 3, Millis(80), 0.999), Millis(80));
}

TEST(RetryPolicy, RetriesOnlyRetryableErrorsWithinBudget) {
  RetryPolicy policy;
  policy.max_retries = 2;
  ApiError throttled{"Throttling.User", "", "", 400, {}};
  ApiError denied{"NoPermission", "", "", 403, {}};
  EXPECT_TRUE(ShouldRetry(throttled, 1, policy));
  EXPECT_TRUE(ShouldRetry(throttled, 2, policy));
  EXPECT_FALSE(ShouldRetry(throttled, 3, policy));
  EXPECT_FALSE(ShouldRetry(denied, 1, policy));
}

}  // namespace
}  // namespace sas::aliyun

namespace sas::aliyun {
namespace {

// A provider whose Refresh() replaces its keys, as RefreshingProvider's.
class RotatingProvider : public aliyun::CredentialsProvider {
 public:
  aliyun::CredentialsResult Get() override {
    return {aliyun::Credentials{refreshes ? "STS.new" : "STS.old", "s",
                                refreshes ? "new-token" : "old-token",
                                std::nullopt},
            "", ""};
  }
  aliyun::CredentialsResult Refresh() override {
    ++refreshes;
    return Get();
  }
  std::string Type() const override { return "ram_role_arn"; }
  int refreshes = 0;
};

TEST(SasClientTokenExpiry, RefreshesOnceAndRetries) {
  FakeClock clock;
  FakeSleeper sleeper(clock);
  CountingNonceSource nonces;
  sas::testing::FakeTransport transport;
  RotatingProvider provider;
  transport.PushResponse(
      400, sas::testing::ErrorBody("InvalidSecurityToken.Expired", "expired"));
  transport.PushResponse(200, sas::testing::ExportInfoBody(1, 1, 1, 1, "init"));
  SasClientOptions options;
  options.account = "prod";
  options.retry.max_retries = 0;
  SasClient client(options, transport, provider, clock, nonces, sleeper,
                   nullptr, nullptr);
  CallResult result =
      client.DescribeExport({kDefaultExportAction, 1, std::nullopt},
                            clock.SteadyNow() + std::chrono::seconds(60));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(provider.refreshes, 1);
  auto requests = transport.requests();
  ASSERT_EQ(requests.size(), 2u);
  std::map<std::string, std::string> second(requests[1].headers.begin(),
                                            requests[1].headers.end());
  EXPECT_EQ(second["x-acs-security-token"], "new-token");

  // Expired again right after the refresh: no second refresh, the error
  // stands.
  transport.PushResponse(
      400, sas::testing::ErrorBody("InvalidSecurityToken.Expired", "expired"));
  transport.PushResponse(
      400, sas::testing::ErrorBody("InvalidSecurityToken.Expired", "expired"));
  result = client.DescribeExport({kDefaultExportAction, 1, std::nullopt},
                                 clock.SteadyNow() + std::chrono::seconds(60));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "InvalidSecurityToken.Expired");
  EXPECT_EQ(provider.refreshes, 2);
  EXPECT_EQ(transport.requests().size(), 4u);
}

}  // namespace
}  // namespace sas::aliyun

namespace sas::aliyun {
namespace {

TEST_F(SasClientTest, ListsArchivedExportsPageByPageAndRetriesLikePolls) {
  transport_.PushResponse(503, ErrorBody("ServiceUnavailable", "busy"));
  transport_.PushResponse(200, R"({"RequestId": "R1",
    "Data": [{"Id": 9, "Status": "exporting", "Progress": 40,
              "Link": "https://oss.example/secret-link"}],
    "PageInfo": {"Count": 1, "CurrentPage": 2, "PageSize": 20,
                 "TotalCount": 21}})");
  SasClient client = MakeClient();
  BackUpListResult result = client.ListBackUpExports(2, 20, Deadline());
  ASSERT_TRUE(result.ok()) << result.error().code;
  EXPECT_EQ(result.attempts, 2);
  ASSERT_EQ(result.page().exports.size(), 1u);
  EXPECT_EQ(result.page().exports[0].info.progress, 40);
  EXPECT_EQ(result.page().total_count, 21);
  std::vector<HttpRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target,
            "/?CurrentPage=2&ExportType=suspiciousExport&PageSize=20");
  std::map<std::string, std::string> headers(requests[1].headers.begin(),
                                             requests[1].headers.end());
  EXPECT_EQ(headers["x-acs-action"], "DescribeBackUpExportInfo");
  ASSERT_EQ(observer_.attempts.size(), 2u);
  EXPECT_EQ(observer_.attempts[0].action, "DescribeBackUpExportInfo");
  EXPECT_EQ(observer_.attempts[0].code, "ServiceUnavailable");
}

// The fake transport's answers, given on the loop after Send returns, as
// the event-loop transport gives them.
class LoopTransport : public AsyncHttpTransport {
 public:
  LoopTransport(FakeTransport& answers, EventLoop& loop)
      : answers_(answers), loop_(loop) {}
  void Send(HttpRequest request, Done done) override {
    EXPECT_TRUE(loop_.InLoopThread());
    loop_.Post([this, request = std::move(request), done = std::move(done)] {
      done(answers_.Send(request));
    });
  }
  void CancelAll() override {}

 private:
  FakeTransport& answers_;
  EventLoop& loop_;
};

// DescribeExportAsync of export 1 on `loop`, run in a thread of its own;
// nullopt when no answer came within 10 s of real time.
std::optional<CallResult> DescribeOnLoop(SasClient& client, EventLoop& loop,
                                         SteadyTime deadline) {
  std::promise<CallResult> answered;
  std::thread loop_thread([&] { loop.Run(); });
  loop.Post([&] {
    client.DescribeExportAsync(
        {kDefaultExportAction, 1, std::nullopt}, deadline,
        [&](CallResult result) { answered.set_value(std::move(result)); });
  });
  std::future<CallResult> future = answered.get_future();
  bool ready =
      future.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  loop.Stop();
  loop_thread.join();
  if (!ready) return std::nullopt;
  return future.get();
}

TEST_F(SasClientTest, OnTheEventLoopRetriesOnTimersWithoutBlocking) {
  transport_.PushResponse(503, ErrorBody("ServiceUnavailable", "busy"));
  transport_.PushError(TransportError::kTimeout);
  transport_.PushResponse(200, ExportInfoBody(1, 50, 5, 10, "exporting"));
  EventLoop loop;
  LoopTransport async(transport_, loop);
  SasClientOptions options;
  options.account = "prod";
  options.endpoint = Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443};
  options.retry.max_retries = 2;
  options.retry.base = Millis(1);
  options.user_agent = "aliyun_sas_exporter/test";
  SasClient client(options, transport_, credentials_, clock_, nonces_, sleeper_,
                   nullptr, &observer_, {&loop, &async});
  std::optional<CallResult> answered = DescribeOnLoop(client, loop, Deadline());
  ASSERT_TRUE(answered);
  const CallResult& result = *answered;
  ASSERT_TRUE(result.ok()) << result.error().code;
  EXPECT_EQ(result.info().progress, 50);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(transport_.requests().size(), 3u);
  ASSERT_EQ(observer_.attempts.size(), 3u);
  EXPECT_EQ(observer_.attempts[0].code, "ServiceUnavailable");
  EXPECT_EQ(observer_.attempts[1].code, "timeout");
  EXPECT_EQ(observer_.attempts[2].code, "");
  // The waits were the loop's timers, not the sleeper's.
  EXPECT_TRUE(sleeper_.sleeps().empty());
}

TEST_F(SasClientTest, OnTheEventLoopStopsAtMaxRetries) {
  for (int i = 0; i < 4; ++i) transport_.PushError(TransportError::kTimeout);
  EventLoop loop;
  LoopTransport async(transport_, loop);
  SasClientOptions options;
  options.account = "prod";
  options.endpoint = Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443};
  options.retry.max_retries = 1;
  options.retry.base = Millis(1);
  SasClient client(options, transport_, credentials_, clock_, nonces_, sleeper_,
                   nullptr, &observer_, {&loop, &async});
  std::optional<CallResult> answered = DescribeOnLoop(client, loop, Deadline());
  ASSERT_TRUE(answered);
  const CallResult& result = *answered;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "timeout");
  EXPECT_EQ(result.attempts, 2);
  EXPECT_EQ(transport_.requests().size(), 2u);
}

}  // namespace
}  // namespace sas::aliyun
