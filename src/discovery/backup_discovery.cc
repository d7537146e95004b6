#include "discovery/backup_discovery.h"

#include <set>

#include "poll/task.h"
#include "util/log.h"

namespace sas::discovery {
namespace {

constexpr aliyun::ExportAction kAction =
    aliyun::ExportAction::kDescribeBackUpExportInfo;

poll::TaskKey KeyOf(const std::string& account, int64_t export_id) {
  return {account, export_id, std::nullopt, kAction};
}

}  // namespace

BackUpExportDiscovery::BackUpExportDiscovery(
    BackUpDiscoveryOptions options, std::vector<BackUpAccount> accounts,
    TaskRegistry& registry, poll::TaskStore& store, const Clock& clock,
    Sleeper& sleeper)
    : options_(options),
      accounts_(std::move(accounts)),
      registry_(registry),
      store_(store),
      clock_(clock),
      sleeper_(sleeper) {}

BackUpExportDiscovery::~BackUpExportDiscovery() { Stop(); }

void BackUpExportDiscovery::Start() {
  thread_ = std::thread([this] {
    while (RunOnce() && sleeper_.SleepUntil(SaturatingAdd(clock_.SteadyNow(),
                                                          options_.interval))) {
    }
  });
}

void BackUpExportDiscovery::Stop() {
  if (thread_.joinable()) thread_.join();
}

void BackUpExportDiscovery::Reconfigure(std::vector<BackUpAccount> accounts,
                                        Millis interval,
                                        Millis finished_retention) {
  std::lock_guard lock(pending_mutex_);
  pending_ = Pending{std::move(accounts), interval, finished_retention};
}

void BackUpExportDiscovery::ApplyPending() {
  std::optional<Pending> pending;
  {
    std::lock_guard lock(pending_mutex_);
    pending.swap(pending_);
  }
  if (!pending) return;
  accounts_ = std::move(pending->accounts);
  options_.interval = pending->interval;
  options_.finished_retention = pending->finished_retention;
  std::set<std::string> names;
  for (const BackUpAccount& account : accounts_) names.insert(account.name);
  bool dropped = false;
  for (auto it = listed_.begin(); it != listed_.end();) {
    if (names.contains(it->first)) {
      ++it;
      continue;
    }
    last_error_.erase(it->first);
    it = listed_.erase(it);
    dropped = true;
  }
  if (dropped) Register();
}

bool BackUpExportDiscovery::RunOnce() {
  ApplyPending();
  for (const BackUpAccount& account : accounts_) {
    if (!ListAccount(account)) return false;
  }
  return true;
}

bool BackUpExportDiscovery::ListAccount(const BackUpAccount& account) {
  std::vector<aliyun::BackUpExport> found;
  std::set<int64_t> seen;
  bool complete = false;
  int skipped = 0;
  for (int32_t page = 1; page <= options_.max_pages; ++page) {
    if (account.bucket != nullptr &&
        !sleeper_.SleepUntil(account.bucket->Reserve())) {
      return false;
    }
    aliyun::BackUpListResult result = account.lister->ListBackUpExports(
        page, options_.page_size,
        SaturatingAdd(clock_.SteadyNow(), options_.interval));
    if (!result.ok()) {
      if (result.error().kind == aliyun::ApiErrorKind::kCancelled) {
        return false;
      }
      RecordFailure(account, result.error(), result.attempts);
      return true;
    }
    const aliyun::BackUpExportPage& answer = result.page();
    skipped += answer.skipped;
    for (const aliyun::BackUpExport& entry : answer.exports) {
      if (seen.insert(*entry.info.id).second) found.push_back(entry);
    }
    size_t on_page = answer.exports.size() + answer.skipped;
    if (on_page < static_cast<size_t>(options_.page_size) ||
        (answer.total_count &&
         static_cast<int64_t>(page) * options_.page_size >=
             *answer.total_count)) {
      complete = true;
      break;
    }
  }
  if (!complete) {
    log::Warn("Archived exports listing cut short; older exports not tracked",
              {{"account", account.name},
               {"pages", std::to_string(options_.max_pages)},
               {"exports", std::to_string(found.size())}});
  }
  if (skipped > 0) {
    log::Warn("DescribeBackUpExportInfo listed exports without an Id; skipped",
              {{"account", account.name}, {"count", std::to_string(skipped)}});
  }

  WallTime now = clock_.Now();
  const WallTime oldest_kept = now - options_.finished_retention;
  std::vector<TaskEntry>& entries = listed_[account.name];
  entries.clear();
  for (const aliyun::BackUpExport& entry : found) {
    TaskEntry task;
    task.account = account.name;
    task.export_id = *entry.info.id;
    task.action = kAction;
    if (entry.created_ms) {
      task.created_at =
          WallTimeFromUnixSeconds(static_cast<double>(*entry.created_ms) / 1e3);
    }
    bool final =
        entry.info.export_status && poll::IsFinal(poll::ClassifyExportStatus(
                                        kAction, *entry.info.export_status));
    if (final && task.created_at && *task.created_at < oldest_kept &&
        !store_.Find(task.Key())) {
      continue;  // finished long ago and not being watched
    }
    entries.push_back(std::move(task));
  }
  Register();

  for (const aliyun::BackUpExport& entry : found) {
    poll::TaskKey key = KeyOf(account.name, *entry.info.id);
    std::optional<poll::TaskId> id = store_.Find(key);
    if (!id || !store_.NeedsPolling(*id)) continue;
    bool new_unknown_status = false;
    store_.RecordSuccess(*id, entry.info, now, &new_unknown_status);
    if (new_unknown_status) {
      log::Warn("Export status not documented for the action; shown as unknown",
                {{"task", key.ToString()},
                 {"action", std::string(aliyun::ExportActionName(kAction))},
                 {"status", entry.info.export_status.value_or("")}});
    }
  }
  if (std::string& last = last_error_[account.name]; !last.empty()) {
    log::Info(
        "Archived exports listed again",
        {{"account", account.name}, {"exports", std::to_string(found.size())}});
    last.clear();
  }
  log::Debug("Listed archived exports",
             {{"account", account.name},
              {"exports", std::to_string(found.size())},
              {"tracked", std::to_string(entries.size())}});
  return true;
}

void BackUpExportDiscovery::RecordFailure(const BackUpAccount& account,
                                          const aliyun::ApiError& error,
                                          int attempts) {
  WallTime now = clock_.Now();
  for (const TaskEntry& entry : listed_[account.name]) {
    std::optional<poll::TaskId> id = store_.Find(entry.Key());
    if (id && store_.NeedsPolling(*id)) store_.RecordFailure(*id, error, now);
  }
  // Warn when listing starts failing or fails differently; repeats of the
  // same failure are debug, as for polls.
  std::string& last = last_error_[account.name];
  log::Level level =
      last != error.code ? log::Level::kWarn : log::Level::kDebug;
  last = error.code;
  if (log::Enabled(level)) {
    log::Write(level, "Listing archived exports failed",
               {{"account", account.name},
                {"code", error.code},
                {"http_status", std::to_string(error.http_status)},
                {"request_id", error.request_id},
                {"attempts", std::to_string(attempts)},
                {"err", error.message}});
  }
}

void BackUpExportDiscovery::Register() {
  std::vector<TaskEntry> all;
  for (const auto& [name, entries] : listed_) {
    all.insert(all.end(), entries.begin(), entries.end());
  }
  std::vector<std::string> problems =
      registry_.Replace(std::string(kSource), all);
  if (!problems.empty()) {
    log::Warn("Discovered exports not tracked",
              {{"count", std::to_string(problems.size())},
               {"first", problems.front()}});
  }
}

}  // namespace sas::discovery
