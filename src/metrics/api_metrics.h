#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "aliyun/sas_client.h"
#include "metrics/prometheus_fwd.h"

namespace sas::metrics {

// The exporter's own instrumentation of API calls, in a prometheus-cpp
// registry:
//   aliyun_sas_api_requests_total{account, action}
//   aliyun_sas_api_request_errors_total{account, action, code}
//   aliyun_sas_api_request_duration_seconds{account, action} (histogram)
// At most kMaxCodesPerAccount distinct `code` values per account; later new
// codes count as "other". Thread-safe.
class ApiMetrics : public aliyun::ApiObserver {
 public:
  static constexpr size_t kMaxCodesPerAccount = 32;

  explicit ApiMetrics(prometheus::Registry& registry);
  ~ApiMetrics() override;

  // Creates the zero-valued series of an account, so rates work from the
  // first scrape.
  void AddAccount(const std::string& account);

  void OnAttempt(std::string_view account, std::string_view action,
                 std::chrono::duration<double> elapsed,
                 const aliyun::ApiError* error) override;

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Histogram>& durations_;
  // An (account, action)'s series, looked up once: prometheus-cpp hashes
  // every label set it is given. Series are never removed.
  struct AttemptSeries {
    prometheus::Counter* requests;
    prometheus::Histogram* durations;
  };
  AttemptSeries& SeriesFor(std::string_view account, std::string_view action);

  std::mutex mutex_;
  // Guarded by mutex_: the codes seen per account.
  std::map<std::string, std::set<std::string>, std::less<>> codes_;
  // Guarded by mutex_: by account, then action.
  std::map<std::string, std::map<std::string, AttemptSeries, std::less<>>,
           std::less<>>
      series_;
};

}  // namespace sas::metrics
