#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "aliyun/response.h"
#include "metrics/prometheus_fwd.h"
#include "poll/poller.h"
#include "util/duration.h"

namespace sas::metrics {

// Per account, whether the exporter keeps up and whether the account works,
// in a prometheus-cpp registry:
//   aliyun_sas_poll_start_lag_seconds{account} (histogram): how late each
//     poll starts against its slot (see poll::PollObserver::OnPollStarted);
//   aliyun_sas_account_demanded_requests_per_second{account}: the account's
//     tasks that need polling / poll_interval, the first attempts the
//     schedule asks for (retries come on top);
//   aliyun_sas_account_max_requests_per_second{account}: its configured rate
//     limit;
//   aliyun_sas_account_up{account}: see AccountCallFailed; absent until a
//     poll of one of the account's tasks finishes.
// Thread-safe.
class AccountMetrics : public poll::PollObserver {
 public:
  explicit AccountMetrics(prometheus::Registry& registry);

  // Creates the account's series (demand 0, an empty lag histogram).
  void AddAccount(const std::string& account, double max_requests_per_second);
  // Sets every added account's demand from its active task count (absent
  // means none).
  void SetDemand(const std::map<std::string, size_t>& active_tasks,
                 Millis poll_interval);

  void OnPollStarted(const std::string& account,
                     std::chrono::nanoseconds lag) override;
  void OnPollFinished(const std::string& account,
                      const aliyun::CallResult& result) override;

 private:
  prometheus::Family<prometheus::Histogram>& lag_;
  prometheus::Family<prometheus::Gauge>& demand_;
  prometheus::Family<prometheus::Gauge>& limit_;
  prometheus::Family<prometheus::Gauge>& up_;
  std::mutex mutex_;
  // Guarded by mutex_: each added account's series.
  struct Series {
    prometheus::Histogram* lag = nullptr;
    prometheus::Gauge* demand = nullptr;
    // Made at the account's first finished poll.
    prometheus::Gauge* up = nullptr;
  };
  std::map<std::string, Series> accounts_;
};

// True when a poll's error says the account itself does not work, which
// makes aliyun_sas_account_up 0: no credentials could be had ("credentials"),
// the API refused them (IsPermanentAuthError codes, or an HTTP 401/403
// without a code), or no valid answer came back (timeout, connection, tls,
// bad_response, a 5xx). False for throttling (IsThrottling) and for errors
// about the request (an unknown ExportId, a bad parameter): Security Center
// answered the account, so it works.
bool AccountCallFailed(const aliyun::ApiError& error);

}  // namespace sas::metrics
