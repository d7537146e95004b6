#include "metrics/credential_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace sas::metrics {
namespace {

// Distinct `code` values per account before "other", as for API errors.
constexpr size_t kMaxCodesPerAccount = 32;

}  // namespace

CredentialMetrics::CredentialMetrics(prometheus::Registry& registry)
    : expiry_(prometheus::BuildGauge()
                  .Name("aliyun_sas_credentials_expiry_timestamp_seconds")
                  .Help("Unix time when the account's temporary credentials "
                        "expire; refreshed 180 s before. Absent for "
                        "long-lived keys.")
                  .Register(registry)),
      refreshes_(prometheus::BuildCounter()
                     .Name("aliyun_sas_credentials_refreshes_total")
                     .Help("Fetches of credentials (STS, metadata service, "
                           "files), failed ones included.")
                     .Register(registry)),
      errors_(prometheus::BuildCounter()
                  .Name("aliyun_sas_credentials_refresh_errors_total")
                  .Help("Failed fetches of credentials by error code.")
                  .Register(registry)) {}

void CredentialMetrics::OnRefresh(const std::string& account,
                                  const std::string& provider,
                                  const aliyun::CredentialsResult& result) {
  prometheus::Labels labels{{"account", account}, {"provider", provider}};
  refreshes_.Add(labels).Increment();
  std::lock_guard lock(mutex_);
  if (!result.credentials) {
    std::string code = result.error_code;
    auto& codes = codes_[account];
    if (!codes.contains(code)) {
      if (codes.size() >= kMaxCodesPerAccount) {
        code = "other";
      } else {
        codes[code] = true;
      }
    }
    labels.emplace("code", code);
    errors_.Add(labels).Increment();
    return;
  }
  prometheus::Gauge*& series = expiry_series_[account];
  if (series != nullptr) {
    expiry_.Remove(series);
    series = nullptr;
  }
  if (result.credentials->expiration) {
    series = &expiry_.Add(labels);
    series->Set(ToUnixSeconds(*result.credentials->expiration));
  }
}

void CredentialMetrics::RemoveAccount(const std::string& account) {
  std::lock_guard lock(mutex_);
  auto it = expiry_series_.find(account);
  if (it == expiry_series_.end()) return;
  if (it->second != nullptr) expiry_.Remove(it->second);
  expiry_series_.erase(it);
}

}  // namespace sas::metrics
