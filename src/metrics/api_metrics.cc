#include "metrics/api_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace sas::metrics {
namespace {

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return buckets;
}

}  // namespace

ApiMetrics::ApiMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("aliyun_sas_api_requests_total")
                    .Help("HTTP attempts to the Alibaba Cloud API, retries "
                          "included, made by background polls.")
                    .Register(registry)),
      errors_(prometheus::BuildCounter()
                  .Name("aliyun_sas_api_request_errors_total")
                  .Help("Failed HTTP attempts by error code: the API's Code "
                        "(Throttling for any answer with x-acs-retry-after), "
                        "or timeout, connection, tls, bad_response, "
                        "http_<status>; other past 32 codes per account.")
                  .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("aliyun_sas_api_request_duration_seconds")
                     .Help("Duration of each HTTP attempt to the Alibaba "
                           "Cloud API.")
                     .Register(registry)) {}

ApiMetrics::~ApiMetrics() = default;

void ApiMetrics::AddAccount(const std::string& account) {
  prometheus::Labels labels{{"account", account},
                            {"action", "DescribeExportInfo"}};
  requests_.Add(labels);
  durations_.Add(labels, DurationBuckets());
}

ApiMetrics::AttemptSeries& ApiMetrics::SeriesFor(std::string_view account,
                                                 std::string_view action) {
  auto by_action = series_.find(account);
  if (by_action == series_.end()) {
    by_action =
        series_.emplace(std::string(account), decltype(series_)::mapped_type{})
            .first;
  }
  auto it = by_action->second.find(action);
  if (it == by_action->second.end()) {
    prometheus::Labels labels{{"account", std::string(account)},
                              {"action", std::string(action)}};
    it = by_action->second
             .emplace(std::string(action),
                      AttemptSeries{&requests_.Add(labels),
                                    &durations_.Add(labels, DurationBuckets())})
             .first;
  }
  return it->second;
}

void ApiMetrics::OnAttempt(std::string_view account, std::string_view action,
                           std::chrono::duration<double> elapsed,
                           const aliyun::ApiError* error) {
  {
    std::lock_guard lock(mutex_);
    AttemptSeries& series = SeriesFor(account, action);
    series.requests->Increment();
    series.durations->Observe(elapsed.count());
  }
  if (error == nullptr) return;
  prometheus::Labels labels{{"account", std::string(account)},
                            {"action", std::string(action)}};
  // An answer that is throttling only by its x-acs-retry-after header counts
  // as code "Throttling", so the throttling alert (code=~"Throttling.*")
  // sees it.
  std::string code =
      aliyun::IsThrottling(*error) && !error->code.starts_with("Throttling")
          ? std::string("Throttling")
          : error->code;
  {
    std::lock_guard lock(mutex_);
    auto& codes = codes_[std::string(account)];
    if (!codes.contains(code)) {
      if (codes.size() >= kMaxCodesPerAccount) {
        code = "other";
      } else {
        codes.insert(code);
      }
    }
  }
  labels.emplace("code", std::move(code));
  errors_.Add(labels).Increment();
}

}  // namespace sas::metrics
