#pragma once

#include <map>
#include <mutex>
#include <string>

#include "credentials/refreshing_provider.h"
#include "metrics/prometheus_fwd.h"

namespace sas::metrics {

// Instrumentation of credential refreshes, in a prometheus-cpp registry:
//   aliyun_sas_credentials_expiry_timestamp_seconds{account, provider}
//     (temporary credentials only)
//   aliyun_sas_credentials_refreshes_total{account, provider}
//   aliyun_sas_credentials_refresh_errors_total{account, provider, code}
// Thread-safe.
class CredentialMetrics : public credentials::RefreshObserver {
 public:
  explicit CredentialMetrics(prometheus::Registry& registry);

  void OnRefresh(const std::string& account, const std::string& provider,
                 const aliyun::CredentialsResult& result) override;
  // Drops the account's expiry series (the account left the configuration
  // and no longer refreshes); the counters stay.
  void RemoveAccount(const std::string& account);

 private:
  prometheus::Family<prometheus::Gauge>& expiry_;
  prometheus::Family<prometheus::Counter>& refreshes_;
  prometheus::Family<prometheus::Counter>& errors_;
  std::mutex mutex_;
  // Guarded by mutex_: the expiry series per account, to replace when the
  // provider label changes or credentials become long-lived.
  std::map<std::string, prometheus::Gauge*> expiry_series_;
  std::map<std::string, std::map<std::string, bool>> codes_;
};

}  // namespace sas::metrics
