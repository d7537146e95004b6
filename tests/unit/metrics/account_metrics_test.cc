#include "metrics/account_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace sas::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

aliyun::CallResult Failure(std::string code, int http_status,
                           aliyun::ApiErrorKind kind) {
  aliyun::CallResult result;
  aliyun::ApiError error;
  error.code = std::move(code);
  error.http_status = http_status;
  error.kind = kind;
  result.outcome = error;
  return result;
}

TEST(AccountMetrics, DemandIsActiveTasksPerPollIntervalNextToTheLimit) {
  prometheus::Registry registry;
  AccountMetrics metrics(registry);
  metrics.AddAccount("prod", 5);
  metrics.AddAccount("idle", 2.5);
  metrics.SetDemand({{"prod", 600}}, Millis(60'000));
  std::string text = Render(registry);
  EXPECT_THAT(text, HasSubstr("aliyun_sas_account_demanded_requests_per_"
                              "second{account=\"prod\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("aliyun_sas_account_demanded_requests_per_"
                              "second{account=\"idle\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("aliyun_sas_account_max_requests_per_second{"
                              "account=\"prod\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("aliyun_sas_account_max_requests_per_second{"
                              "account=\"idle\"} 2.5\n"));
  // Tasks finish: the demand follows.
  metrics.SetDemand({}, Millis(60'000));
  EXPECT_THAT(Render(registry),
              HasSubstr("aliyun_sas_account_demanded_requests_per_"
                        "second{account=\"prod\"} 0\n"));
}

TEST(AccountMetrics, LagIsAHistogramPerAccountFrom10msTo10min) {
  prometheus::Registry registry;
  AccountMetrics metrics(registry);
  metrics.AddAccount("prod", 5);
  std::string empty = Render(registry);
  EXPECT_THAT(empty, HasSubstr("aliyun_sas_poll_start_lag_seconds_count{"
                               "account=\"prod\"} 0\n"));
  EXPECT_THAT(empty, HasSubstr("le=\"0.01\""));
  EXPECT_THAT(empty, HasSubstr("le=\"600\""));
  metrics.OnPollStarted("prod", std::chrono::milliseconds(0));
  metrics.OnPollStarted("prod", std::chrono::seconds(45));
  metrics.OnPollStarted("unknown", std::chrono::seconds(1));  // ignored
  std::string text = Render(registry);
  EXPECT_THAT(text, HasSubstr("aliyun_sas_poll_start_lag_seconds_count{"
                              "account=\"prod\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("aliyun_sas_poll_start_lag_seconds_sum{"
                              "account=\"prod\"} 45\n"));
  EXPECT_THAT(text, HasSubstr("aliyun_sas_poll_start_lag_seconds_bucket{"
                              "account=\"prod\",le=\"30\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aliyun_sas_poll_start_lag_seconds_bucket{"
                              "account=\"prod\",le=\"60\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("account=\"unknown\"")));
}

TEST(AccountMetrics, UpFollowsTheLatestPollOfTheAccount) {
  prometheus::Registry registry;
  AccountMetrics metrics(registry);
  metrics.AddAccount("prod", 5);
  EXPECT_THAT(Render(registry), Not(HasSubstr("aliyun_sas_account_up{")));
  metrics.OnPollFinished(
      "prod", Failure("credentials", 0, aliyun::ApiErrorKind::kCredentials));
  EXPECT_THAT(Render(registry),
              HasSubstr("aliyun_sas_account_up{account=\"prod\"} 0\n"));
  aliyun::CallResult ok;
  ok.outcome = aliyun::ExportInfo{};
  metrics.OnPollFinished("prod", ok);
  EXPECT_THAT(Render(registry),
              HasSubstr("aliyun_sas_account_up{account=\"prod\"} 1\n"));
  metrics.OnPollFinished("prod", Failure("InvalidAccessKeyId.NotFound", 404,
                                         aliyun::ApiErrorKind::kApi));
  EXPECT_THAT(Render(registry),
              HasSubstr("aliyun_sas_account_up{account=\"prod\"} 0\n"));
}

TEST(AccountMetrics, AccountFailuresAreCredentialsRefusalsAndNoValidAnswer) {
  using aliyun::ApiErrorKind;
  auto failed = [](std::string code, int status, ApiErrorKind kind) {
    return AccountCallFailed(Failure(std::move(code), status, kind).error());
  };
  EXPECT_TRUE(failed("credentials", 0, ApiErrorKind::kCredentials));
  EXPECT_TRUE(failed("SignatureDoesNotMatch", 400, ApiErrorKind::kApi));
  EXPECT_TRUE(failed("InvalidSecurityToken.Expired", 400, ApiErrorKind::kApi));
  EXPECT_TRUE(failed("NoPermission", 403, ApiErrorKind::kApi));
  EXPECT_TRUE(failed("http_401", 401, ApiErrorKind::kHttp));
  EXPECT_TRUE(failed("timeout", 0, ApiErrorKind::kTimeout));
  EXPECT_TRUE(failed("connection", 0, ApiErrorKind::kConnection));
  EXPECT_TRUE(failed("tls", 0, ApiErrorKind::kTls));
  EXPECT_TRUE(failed("bad_response", 200, ApiErrorKind::kBadResponse));
  EXPECT_TRUE(failed("ServiceUnavailable", 503, ApiErrorKind::kApi));
  // Security Center answered about the export, or asked to slow down: the
  // account itself works.
  EXPECT_FALSE(failed("InvalidExportId.NotFound", 400, ApiErrorKind::kApi));
  EXPECT_FALSE(failed("InvalidParameter", 400, ApiErrorKind::kApi));
  EXPECT_FALSE(failed("Throttling.User", 400, ApiErrorKind::kApi));
  EXPECT_FALSE(failed("cancelled", 0, ApiErrorKind::kCancelled));
}

}  // namespace
}  // namespace sas::metrics
