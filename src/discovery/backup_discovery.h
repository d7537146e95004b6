#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "aliyun/sas_client.h"
#include "discovery/task_entry.h"
#include "discovery/task_registry.h"
#include "poll/task_store.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/sleeper.h"
#include "util/token_bucket.h"

namespace sas::discovery {

// An account whose archived suspicious-event exports are tracked
// (discover_backup_exports = true).
struct BackUpAccount {
  std::string name;
  aliyun::BackUpExportLister* lister = nullptr;
  TokenBucket* bucket = nullptr;  // the account's rate limit; may be null
  // Keeps lister and bucket alive while a listing uses them, also after
  // Reconfigure dropped the account; null when they outlive the discovery.
  std::shared_ptr<const void> owner;
};

struct BackUpDiscoveryOptions {
  // How often every account is listed: the poll interval. Also each page
  // request's deadline.
  Millis interval{60'000};
  // An export first listed already finished is tracked only when it was
  // created (GmtCreate) within this long: older ones would have expired
  // already, and must not reappear at every start.
  Millis finished_retention{std::chrono::hours(1)};
  // PageSize: the official SDK's documented default.
  int32_t page_size = 20;
  // Pages read per account and listing at most; the listing is cut there
  // (and that logged).
  int max_pages = 100;
};

// Tracks every export DescribeBackUpExportInfo lists, as tasks of that
// action under the registry source "discovered", and records each listed
// export's state as a poll of it would. Each listing replaces the account's
// previous one: exports no longer listed stop being tracked. A failed
// listing keeps the registrations and records the failure on the account's
// unfinished discovered tasks (they show up 0). Each page takes a token
// from the account's bucket. RunOnce and the thread of Start never run at
// the same time.
class BackUpExportDiscovery {
 public:
  static constexpr std::string_view kSource = "discovered";

  BackUpExportDiscovery(BackUpDiscoveryOptions options,
                        std::vector<BackUpAccount> accounts,
                        TaskRegistry& registry, poll::TaskStore& store,
                        const Clock& clock, Sleeper& sleeper);
  ~BackUpExportDiscovery();

  // Lists every account once. Returns false when the sleeper was stopped.
  bool RunOnce();
  // Lists every account now and then every interval, on a thread of its
  // own, until the sleeper is stopped.
  void Start();
  // Joins the thread. The sleeper must have been stopped (and requests in
  // flight cancelled) first.
  void Stop();

  // Replaces the accounts, the interval and finished_retention (a
  // configuration reload) from the next listing on; a listing under way
  // finishes with what it started with. The exports of accounts no longer
  // given stop being tracked then. Thread-safe.
  void Reconfigure(std::vector<BackUpAccount> accounts, Millis interval,
                   Millis finished_retention);

 private:
  // Lists one account. False when the sleeper was stopped.
  bool ListAccount(const BackUpAccount& account);
  void RecordFailure(const BackUpAccount& account,
                     const aliyun::ApiError& error, int attempts);
  // Registers the union of every account's latest listing.
  void Register();

  // Applies a pending Reconfigure. Listing thread only.
  void ApplyPending();

  // Touched only by the listing thread (or RunOnce's caller), like listed_.
  BackUpDiscoveryOptions options_;
  std::vector<BackUpAccount> accounts_;
  TaskRegistry& registry_;
  poll::TaskStore& store_;
  const Clock& clock_;
  Sleeper& sleeper_;
  // Touched only by the listing thread (or RunOnce's caller).
  std::map<std::string, std::vector<TaskEntry>> listed_;
  // The latest listing error code per account ("" after a success).
  std::map<std::string, std::string> last_error_;
  std::thread thread_;

  struct Pending {
    std::vector<BackUpAccount> accounts;
    Millis interval;
    Millis finished_retention;
  };
  std::mutex pending_mutex_;
  // Guarded by pending_mutex_.
  std::optional<Pending> pending_;
};

}  // namespace sas::discovery
