#include "metrics/account_metrics.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace sas::metrics {
namespace {

// From 10 ms (a token wait within one burst) to 10 min (several intervals
// of a typical poll_interval behind).
const prometheus::Histogram::BucketBoundaries& LagBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return buckets;
}

}  // namespace

AccountMetrics::AccountMetrics(prometheus::Registry& registry)
    : lag_(prometheus::BuildHistogram()
               .Name("aliyun_sas_poll_start_lag_seconds")
               .Help("How late polls of the account's tasks start against "
                     "their scheduled time: the wait for the rate limit and "
                     "for a free worker.")
               .Register(registry)),
      demand_(prometheus::BuildGauge()
                  .Name("aliyun_sas_account_demanded_requests_per_second")
                  .Help("Requests per second the account's schedule needs: "
                        "its unfinished tasks divided by poll_interval, "
                        "retries not included.")
                  .Register(registry)),
      limit_(prometheus::BuildGauge()
                 .Name("aliyun_sas_account_max_requests_per_second")
                 .Help("The account's configured max_requests_per_second.")
                 .Register(registry)),
      up_(prometheus::BuildGauge()
              .Name("aliyun_sas_account_up")
              .Help("1 when the latest poll with the account's credentials "
                    "reached Security Center and was accepted (an error "
                    "about the export itself or throttling included); 0 when "
                    "credentials were missing or refused, or no valid answer "
                    "came back.")
              .Register(registry)) {}

void AccountMetrics::AddAccount(const std::string& account,
                                double max_requests_per_second) {
  prometheus::Labels labels{{"account", account}};
  limit_.Add(labels).Set(max_requests_per_second);
  std::lock_guard lock(mutex_);
  Series& series = accounts_[account];
  series.lag = &lag_.Add(labels, LagBuckets());
  series.demand = &demand_.Add(labels);
}

void AccountMetrics::SetDemand(
    const std::map<std::string, size_t>& active_tasks, Millis poll_interval) {
  double interval = std::chrono::duration<double>(poll_interval).count();
  std::lock_guard lock(mutex_);
  for (auto& [account, series] : accounts_) {
    auto active = active_tasks.find(account);
    double tasks = active == active_tasks.end()
                       ? 0.0
                       : static_cast<double>(active->second);
    series.demand->Set(interval > 0 ? tasks / interval : 0.0);
  }
}

void AccountMetrics::OnPollStarted(const std::string& account,
                                   std::chrono::nanoseconds lag) {
  prometheus::Histogram* histogram;
  {
    std::lock_guard lock(mutex_);
    auto it = accounts_.find(account);
    if (it == accounts_.end()) return;
    histogram = it->second.lag;
  }
  histogram->Observe(std::chrono::duration<double>(lag).count());
}

void AccountMetrics::OnPollFinished(const std::string& account,
                                    const aliyun::CallResult& result) {
  bool failed = !result.ok() && AccountCallFailed(result.error());
  prometheus::Gauge* up;
  {
    std::lock_guard lock(mutex_);
    auto it = accounts_.find(account);
    if (it == accounts_.end()) {
      up = &up_.Add({{"account", account}});
    } else {
      if (it->second.up == nullptr) {
        it->second.up = &up_.Add({{"account", account}});
      }
      up = it->second.up;
    }
  }
  up->Set(failed ? 0 : 1);
}

bool AccountCallFailed(const aliyun::ApiError& error) {
  using aliyun::ApiErrorKind;
  if (aliyun::IsThrottling(error)) return false;
  switch (error.kind) {
    case ApiErrorKind::kCredentials:
    case ApiErrorKind::kTimeout:
    case ApiErrorKind::kConnection:
    case ApiErrorKind::kTls:
    case ApiErrorKind::kBadResponse:
      return true;
    case ApiErrorKind::kCancelled:
      return false;
    case ApiErrorKind::kApi:
    case ApiErrorKind::kHttp:
      break;
  }
  return error.http_status >= 500 || error.http_status == 401 ||
         error.http_status == 403 || aliyun::IsPermanentAuthError(error.code);
}

}  // namespace sas::metrics
