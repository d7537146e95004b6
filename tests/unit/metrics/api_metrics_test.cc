#include "metrics/api_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace sas::metrics {
namespace {

std::string Render(const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(ApiMetrics, CountsAttemptsAndErrorsByCode) {
  prometheus::Registry registry;
  ApiMetrics metrics(registry);
  metrics.AddAccount("prod");
  aliyun::ApiError throttled{"Throttling.User", "", "", 400, {}};
  metrics.OnAttempt("prod", "DescribeExportInfo", std::chrono::milliseconds(20),
                    nullptr);
  metrics.OnAttempt("prod", "DescribeExportInfo", std::chrono::milliseconds(30),
                    &throttled);
  std::string text = Render(registry);
  EXPECT_NE(text.find("aliyun_sas_api_requests_total{account=\"prod\",action="
                      "\"DescribeExportInfo\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("aliyun_sas_api_request_errors_total{account=\"prod\","
                "action=\"DescribeExportInfo\",code=\"Throttling.User\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("aliyun_sas_api_request_duration_seconds_count{account="
                      "\"prod\",action=\"DescribeExportInfo\"} 2"),
            std::string::npos)
      << text;
}

TEST(ApiMetrics, BoundsDistinctCodesPerAccount) {
  prometheus::Registry registry;
  ApiMetrics metrics(registry);
  for (size_t i = 0; i < ApiMetrics::kMaxCodesPerAccount + 5; ++i) {
    aliyun::ApiError error{"Code" + std::to_string(i), "", "", 400, {}};
    metrics.OnAttempt("prod", "DescribeExportInfo", std::chrono::seconds(0),
                      &error);
  }
  // Another account has its own budget.
  aliyun::ApiError error{"Code40", "", "", 400, {}};
  metrics.OnAttempt("staging", "DescribeExportInfo", std::chrono::seconds(0),
                    &error);
  std::string text = Render(registry);
  EXPECT_NE(text.find("code=\"Code31\"} 1"), std::string::npos);
  EXPECT_EQ(text.find("account=\"prod\",action=\"DescribeExportInfo\",code="
                      "\"Code32\""),
            std::string::npos);
  EXPECT_NE(text.find("account=\"prod\",action=\"DescribeExportInfo\",code="
                      "\"other\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("account=\"staging\",action=\"DescribeExportInfo\",code="
                      "\"Code40\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace sas::metrics
