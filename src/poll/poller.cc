#include "poll/poller.h"

#include <algorithm>

#include "util/log.h"

namespace sas::poll {

Poller::Poller(PollerOptions options, TaskStore& store,
               std::map<std::string, AccountHandle> accounts,
               const Clock& clock)
    : concurrency_(options.concurrency),
      observer_(options.observer),
      store_(store),
      clock_(clock),
      poll_interval_(options.poll_interval),
      accounts_(std::move(accounts)) {}

Poller::~Poller() { Stop(); }

void Poller::Schedule(TaskId id, SteadyTime first_due) {
  Push(Entry{first_due, first_due, id, false});
}

void Poller::ScheduleSpread(const std::vector<TaskId>& ids) {
  if (ids.empty()) return;
  SteadyTime now = clock_.SteadyNow();
  {
    std::lock_guard lock(mutex_);
    auto step =
        SaturatingNanos(poll_interval_) / static_cast<int64_t>(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      SteadyTime due = SaturatingAdd(now, step * static_cast<int64_t>(i));
      queue_.push(Entry{due, due, ids[i], false});
    }
  }
  wake_.notify_all();
}

void Poller::Reconfigure(Millis poll_interval,
                         std::map<std::string, AccountHandle> accounts) {
  std::map<std::string, AccountHandle> old;
  {
    std::lock_guard lock(mutex_);
    poll_interval_ = poll_interval;
    old.swap(accounts_);
    accounts_ = std::move(accounts);
  }
  // `old` may hold the last references to retired accounts: released here,
  // outside the lock.
}

void Poller::Start() {
  std::lock_guard lock(mutex_);
  stopping_ = false;
  for (int i = 0; i < concurrency_; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void Poller::Stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    workers.swap(workers_);
  }
  wake_.notify_all();
  for (std::thread& worker : workers) worker.join();
}

size_t Poller::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool Poller::PopRunnable(SteadyTime now, Entry* out) {
  while (!queue_.empty() && queue_.top().run_at <= now) {
    Entry entry = queue_.top();
    queue_.pop();
    if (!store_.NeedsPolling(entry.id)) continue;  // removed or finished
    if (!entry.has_token) {
      auto definition = store_.Definition(entry.id);
      auto account = definition ? accounts_.find(definition->key.account)
                                : accounts_.end();
      if (account == accounts_.end()) continue;
      if (account->second.bucket != nullptr) {
        SteadyTime ready = account->second.bucket->Reserve();
        entry.has_token = true;
        if (ready > now) {
          entry.run_at = ready;
          queue_.push(entry);
          continue;
        }
      }
    }
    *out = entry;
    return true;
  }
  return false;
}

bool Poller::RunOnce() {
  Entry entry;
  {
    std::lock_guard lock(mutex_);
    if (!PopRunnable(clock_.SteadyNow(), &entry)) return false;
  }
  Poll(entry);
  return true;
}

void Poller::WorkerLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    Entry entry;
    SteadyTime now = clock_.SteadyNow();
    if (PopRunnable(now, &entry)) {
      // Another worker takes over watching the clock when the next task is
      // due before this poll is likely to end; otherwise this worker keeps
      // the role, which saves a wake-up and a sleep per poll when polls are
      // sparse. The estimate is twice the recent average poll duration.
      bool handoff =
          !queue_.empty() && queue_.top().run_at <= now + 2 * poll_duration_;
      if (handoff) wake_.notify_one();
      lock.unlock();
      SteadyTime started = clock_.SteadyNow();
      Poll(entry);
      std::chrono::nanoseconds took = clock_.SteadyNow() - started;
      lock.lock();
      poll_duration_ = (poll_duration_ * 7 + took) / 8;
      continue;
    }
    if (timekeeper_) {
      // One worker waits for the next due time; the others sleep until
      // handed work, so a due task wakes one thread, not all of them.
      wake_.wait(lock);
      continue;
    }
    // Wake at least once a second to forget expired finished tasks even
    // when nothing is left to poll. The clock is the real one whenever
    // workers run.
    auto wait = std::chrono::steady_clock::duration(std::chrono::seconds(1));
    if (!queue_.empty()) wait = std::min(wait, queue_.top().run_at - now);
    timekeeper_ = true;
    wake_.wait_for(lock, wait);
    timekeeper_ = false;
    lock.unlock();
    store_.ExpireFinished(clock_.Now());
    lock.lock();
  }
}

void Poller::Push(const Entry& entry) {
  bool new_top;
  {
    std::lock_guard lock(mutex_);
    new_top = queue_.empty() || entry.run_at < queue_.top().run_at;
    queue_.push(entry);
  }
  // Only an entry that moves the next due time needs the timekeeper to look
  // again; the timekeeper may be any sleeping worker, so wake them all.
  if (new_top) wake_.notify_all();
}

void Poller::Poll(const Entry& entry) {
  auto definition = store_.Definition(entry.id);
  if (!definition) return;
  AccountHandle account;
  Millis interval;
  {
    std::lock_guard lock(mutex_);
    auto it = accounts_.find(definition->key.account);
    if (it == accounts_.end()) return;  // the account went in a reload
    account = it->second;
    interval = poll_interval_;
  }
  SteadyTime started = clock_.SteadyNow();
  if (observer_ != nullptr) {
    observer_->OnPollStarted(
        definition->key.account,
        std::max(std::chrono::nanoseconds(0), started - entry.nominal));
  }
  SteadyTime deadline = SaturatingAdd(started, interval);
  const TaskKey& key = definition->key;
  aliyun::CallResult result = account.client->DescribeExport(
      {key.action, key.export_id, key.rd_account_id}, deadline);
  if (observer_ != nullptr &&
      (result.ok() ||
       result.error().kind != aliyun::ApiErrorKind::kCancelled)) {
    observer_->OnPollFinished(key.account, result);
  }

  WallTime now = clock_.Now();
  if (result.ok()) {
    const aliyun::ExportInfo& info = result.info();
    bool new_unknown_status = false;
    store_.RecordSuccess(entry.id, info, now, &new_unknown_status);
    std::string status = info.export_status.value_or("");
    if (new_unknown_status) {
      log::Warn(
          "Export status not documented for the action; shown as "
          "unknown",
          {{"task", key.ToString()},
           {"action", std::string(aliyun::ExportActionName(key.action))},
           {"status", status}});
    }
    log::Debug("Polled export",
               {{"task", key.ToString()},
                {"status", status},
                {"progress", info.progress ? std::to_string(*info.progress)
                                           : std::string("absent")}});
  } else {
    const aliyun::ApiError& error = result.error();
    if (error.kind == aliyun::ApiErrorKind::kCancelled) return;
    std::optional<std::string> previous =
        store_.RecordFailure(entry.id, error, now);
    // Warn when a task starts failing or fails differently; repeats of the
    // same failure are debug, so an outage doesn't flood the log.
    log::Level level = previous && *previous != error.code ? log::Level::kWarn
                                                           : log::Level::kDebug;
    if (log::Enabled(level))
      log::Write(level, "Poll failed",
                 {{"task", definition->key.ToString()},
                  {"code", error.code},
                  {"http_status", std::to_string(error.http_status)},
                  {"request_id", error.request_id},
                  {"attempts", std::to_string(result.attempts)},
                  {"err", error.message}});
  }
  store_.ExpireFinished(now);
  if (!store_.NeedsPolling(entry.id)) return;

  SteadyTime next = SaturatingAdd(entry.nominal, interval);
  SteadyTime steady_now = clock_.SteadyNow();
  // Far behind (a long outage or a suspended host): restart the phase.
  if (SaturatingAdd(next, interval) < steady_now) {
    next = steady_now;
  }
  Push(Entry{next, next, entry.id, false});
}

}  // namespace sas::poll
