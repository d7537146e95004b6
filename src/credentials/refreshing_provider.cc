#include "credentials/refreshing_provider.h"

#include <algorithm>

#include "util/log.h"

namespace sas::credentials {

using aliyun::CredentialsResult;

namespace {

// "Never" for long-lived keys: far enough, and safe from overflow.
constexpr std::chrono::hours kFarFuture{24 * 365};

}  // namespace

RefreshingProvider::RefreshingProvider(
    std::string account, std::unique_ptr<CredentialsFetcher> fetcher,
    const Clock& clock, RefreshObserver* observer,
    std::chrono::milliseconds retry_cap_without_credentials)
    : account_(std::move(account)),
      fetcher_(std::move(fetcher)),
      clock_(clock),
      observer_(observer),
      retry_cap_without_credentials_(std::clamp<std::chrono::milliseconds>(
          retry_cap_without_credentials, std::chrono::seconds(1), kMaxBackoff)),
      type_(fetcher_->Type()) {}

bool RefreshingProvider::HasValidCredentials(WallTime now) const {
  return cached_ && (!cached_->expiration || now < *cached_->expiration);
}

CredentialsResult RefreshingProvider::Get() {
  std::lock_guard lock(mutex_);
  if (HasValidCredentials(clock_.Now())) return {cached_, "", ""};
  if (cached_) {
    return {std::nullopt, "CredentialsExpired",
            "temporary credentials expired and could not be refreshed: " +
                last_error_code_ + ": " + last_error_message_};
  }
  return {std::nullopt, last_error_code_, last_error_message_};
}

std::string RefreshingProvider::Type() const {
  std::lock_guard lock(mutex_);
  return type_;
}

CredentialsResult RefreshingProvider::Refresh() {
  std::lock_guard fetch_lock(fetch_mutex_);
  return FetchAndStore();
}

CredentialsResult RefreshingProvider::FetchAndStore() {
  CredentialsResult result = fetcher_->Fetch();
  std::string type = fetcher_->Type();
  WallTime now = clock_.Now();
  bool warn = false;
  bool recovered = false;
  {
    std::lock_guard lock(mutex_);
    type_ = type;
    if (result.credentials) {
      recovered = !warned_code_.empty();
      warned_code_.clear();
      cached_ = result.credentials;
      backoff_ = std::chrono::seconds(0);
      last_error_code_.clear();
      last_error_message_.clear();
      if (cached_->expiration) {
        // 180 s ahead, or half the lifetime when that is shorter (only
        // test scenarios issue credentials that short-lived).
        auto remaining = *cached_->expiration - now;
        auto ahead = std::min<WallTime::duration>(kRefreshAhead, remaining / 2);
        next_due_ = std::max(now + std::chrono::milliseconds(100),
                             *cached_->expiration - ahead);
      } else {
        next_due_ = now + kFarFuture;
      }
    } else {
      const std::chrono::milliseconds cap =
          HasValidCredentials(now) ? kMaxBackoff
                                   : retry_cap_without_credentials_;
      backoff_ = backoff_.count() == 0
                     ? std::chrono::milliseconds(std::chrono::seconds(1))
                     : std::min(backoff_ * 2, cap);
      warn = result.error_code != warned_code_;
      if (warn) warned_code_ = result.error_code;
      last_error_code_ = result.error_code;
      last_error_message_ = result.error_message;
      next_due_ = now + backoff_;
    }
  }
  if (observer_ != nullptr) observer_->OnRefresh(account_, type, result);
  if (!result.credentials) {
    // Retries of the same failure every few seconds would flood the log:
    // the first of each code is a warning, the repeats debug lines.
    (warn ? log::Warn : log::Debug)("Credentials refresh failed",
                                    {{"account", account_},
                                     {"provider", type},
                                     {"code", result.error_code},
                                     {"err", result.error_message}});
  } else if (recovered) {
    log::Info("Credentials refreshed after failures",
              {{"account", account_}, {"provider", type}});
  } else {
    log::Debug(
        "Credentials refreshed",
        {{"account", account_},
         {"provider", type},
         {"expiration", result.credentials->expiration
                            ? FormatIso8601(*result.credentials->expiration)
                            : "never"}});
  }
  return result;
}

WallTime RefreshingProvider::RefreshIfDue() {
  std::lock_guard fetch_lock(fetch_mutex_);
  {
    std::lock_guard lock(mutex_);
    bool never_fetched = !cached_ && backoff_.count() == 0;
    if (!never_fetched && clock_.Now() < next_due_) return next_due_;
  }
  FetchAndStore();
  std::lock_guard lock(mutex_);
  return next_due_;
}

CredentialsRefresher::~CredentialsRefresher() { Stop(); }

void CredentialsRefresher::Add(RefreshingProvider* provider) {
  std::lock_guard lock(mutex_);
  threads_.emplace_back([this, provider] { Loop(provider); });
}

void CredentialsRefresher::Loop(RefreshingProvider* provider) {
  WallTime next = provider->RefreshIfDue();
  std::unique_lock lock(mutex_);
  ++first_fetches_done_;
  wake_.notify_all();
  while (!stopping_) {
    // The wall clock decides expiry; wait in steady time for the same span.
    auto wait = next - clock_.Now();
    if (wait > std::chrono::seconds(0)) {
      wake_.wait_for(lock, std::min<std::chrono::nanoseconds>(
                               wait, std::chrono::seconds(60)));
      continue;
    }
    lock.unlock();
    next = provider->RefreshIfDue();
    lock.lock();
  }
}

bool CredentialsRefresher::WaitForFirstFetches(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, timeout, [this] {
    return stopping_ || first_fetches_done_ == threads_.size();
  });
}

void CredentialsRefresher::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

}  // namespace sas::credentials
