#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aliyun/credentials.h"
#include "util/clock.h"
#include "util/duration.h"

namespace sas::credentials {

// Obtains credentials once, blocking (files, STS, the metadata service).
// A RefreshingProvider caches what it fetches. Thread-compatible: one Fetch
// at a time.
class CredentialsFetcher {
 public:
  virtual ~CredentialsFetcher() = default;
  virtual aliyun::CredentialsResult Fetch() = 0;
  // The credential type that produced the latest credentials, for the
  // `provider` label ("ram_role_arn", "ecs_ram_role", ...).
  virtual std::string Type() const = 0;
};

// Sees every fetch of credentials, for metrics. Thread-safe.
class RefreshObserver {
 public:
  virtual ~RefreshObserver() = default;
  // result.credentials set on success (expiration nullopt for long-lived
  // keys); error_code set on failure. `provider` is the fetcher's Type().
  virtual void OnRefresh(const std::string& account,
                         const std::string& provider,
                         const aliyun::CredentialsResult& result) = 0;
};

// Caches the credentials a fetcher yields and keeps them fresh, the way the
// official credentials libraries do: a fetch when nothing is cached, and
// again when 180 s or less remain before Expiration (half the lifetime when
// credentials live less than 6 minutes). Get() never touches the
// network: it answers from the cache. A failed refresh keeps the old
// credentials while they are valid and is retried with exponential backoff
// (1 s doubling to 60 s). Once no valid credentials are cached (never
// fetched, or expired), every poll of the account fails until a fetch
// succeeds, so the backoff stops at `retry_cap_without_credentials`
// instead: the account then recovers within that long of its source (STS,
// the metadata service) coming back. Thread-safe.
class RefreshingProvider : public aliyun::CredentialsProvider {
 public:
  static constexpr std::chrono::seconds kRefreshAhead{180};
  static constexpr std::chrono::seconds kMaxBackoff{60};

  RefreshingProvider(
      std::string account, std::unique_ptr<CredentialsFetcher> fetcher,
      const Clock& clock, RefreshObserver* observer = nullptr,
      std::chrono::milliseconds retry_cap_without_credentials = kMaxBackoff);

  // The cached credentials while valid; otherwise the latest fetch error
  // (code "CredentialsPending" before the first fetch ends).
  aliyun::CredentialsResult Get() override;
  std::string Type() const override;
  // Fetches now, blocking, and caches the result.
  aliyun::CredentialsResult Refresh() override;

  // Fetches if nothing is cached, if the cache is within kRefreshAhead of
  // expiring, or if a failed fetch's backoff has passed. Returns the wall
  // time of the next fetch due (far future for long-lived keys).
  WallTime RefreshIfDue();

 private:
  // Requires fetch_mutex_ held.
  aliyun::CredentialsResult FetchAndStore();
  // Requires mutex_ held.
  bool HasValidCredentials(WallTime now) const;

  const std::string account_;
  const std::unique_ptr<CredentialsFetcher> fetcher_;
  const Clock& clock_;
  RefreshObserver* const observer_;
  const std::chrono::milliseconds retry_cap_without_credentials_;

  // Serialises fetches (the fetcher is thread-compatible).
  std::mutex fetch_mutex_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::optional<aliyun::Credentials> cached_;
  std::string type_;
  std::string last_error_code_ = "CredentialsPending";
  std::string last_error_message_ = "credentials not fetched yet";
  WallTime next_due_{};
  std::chrono::milliseconds backoff_{0};
  // The error code of the latest failed fetch that was logged as a warning;
  // repeats of it are logged at debug level. Empty after a success.
  std::string warned_code_;
};

// Runs every provider's refreshes in the background: one thread per
// provider, so one slow or failing source never delays another account's.
// Thread-safe.
class CredentialsRefresher {
 public:
  explicit CredentialsRefresher(const Clock& clock) : clock_(clock) {}
  ~CredentialsRefresher();

  // Starts refreshing `provider` (which must outlive the refresher).
  void Add(RefreshingProvider* provider);
  // Waits until every provider's first fetch has ended, or the timeout.
  // Returns true when all ended.
  bool WaitForFirstFetches(std::chrono::milliseconds timeout);
  // Stops and joins every thread; fetches in flight must be cancelled by
  // their transports for this to return promptly.
  void Stop();

 private:
  void Loop(RefreshingProvider* provider);

  const Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  bool stopping_ = false;
  size_t first_fetches_done_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace sas::credentials
