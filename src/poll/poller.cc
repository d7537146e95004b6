#include "poll/poller.h"

#include <algorithm>

#include "util/log.h"

namespace sas::poll {
namespace {

constexpr std::chrono::seconds kHousekeepingPeriod{1};

}  // namespace

Poller::Poller(PollerOptions options, TaskStore& store,
               std::map<std::string, AccountHandle> accounts,
               const Clock& clock)
    : observer_(options.observer),
      store_(store),
      clock_(clock),
      own_loop_(options.loop == nullptr ? std::make_unique<EventLoop>()
                                        : nullptr),
      loop_(options.loop == nullptr ? *own_loop_ : *options.loop),
      concurrency_(std::max(1, options.concurrency)),
      poll_interval_(options.poll_interval),
      accounts_(std::move(accounts)) {}

Poller::~Poller() { Stop(); }

void Poller::Schedule(TaskId id, SteadyTime first_due) {
  Push(Entry{first_due, first_due, id, false});
}

void Poller::ScheduleSpread(const std::vector<TaskId>& ids) {
  if (ids.empty()) return;
  SteadyTime now = clock_.SteadyNow();
  bool post;
  {
    std::lock_guard lock(mutex_);
    auto step =
        SaturatingNanos(poll_interval_) / static_cast<int64_t>(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      SteadyTime due = SaturatingAdd(now, step * static_cast<int64_t>(i));
      queue_.push(Entry{due, due, ids[i], false});
    }
    post = running_ && !arm_posted_;
    if (post) arm_posted_ = true;
  }
  if (post) loop_.Post([this] { Arm(); });
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

void Poller::SetConcurrency(int concurrency) {
  bool post;
  {
    std::lock_guard lock(mutex_);
    concurrency_ = std::max(1, concurrency);
    post = running_ && !arm_posted_;
    if (post) arm_posted_ = true;
  }
  if (post) loop_.Post([this] { Arm(); });
}

void Poller::Start() {
  {
    std::lock_guard lock(mutex_);
    if (running_) return;
    running_ = true;
    reaper_stopping_ = false;
    arm_posted_ = true;
  }
  next_housekeeping_ = clock_.SteadyNow();
  loop_.Post([this] { Arm(); });
  reaper_ = std::thread([this] { ReaperLoop(); });
  thread_ = std::thread([this] { loop_.Run(); });
}

void Poller::Stop() {
  {
    std::lock_guard lock(mutex_);
    running_ = false;
    reaper_stopping_ = true;
  }
  reaper_wake_.notify_all();
  if (thread_.joinable()) {
    loop_.Stop();
    thread_.join();
  }
  if (reaper_.joinable()) reaper_.join();
  if (timer_ != 0) loop_.Cancel(timer_);
  timer_ = 0;
  std::vector<std::shared_ptr<const void>> retired;
  {
    std::lock_guard lock(mutex_);
    retired.swap(retired_);
  }
}

size_t Poller::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool Poller::PopRunnable(SteadyTime due_by, SteadyTime now, Entry* out) {
  while (!queue_.empty() && queue_.top().run_at <= due_by) {
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
    SteadyTime now = clock_.SteadyNow();
    if (!PopRunnable(now, now, &entry)) return false;
  }
  std::optional<Started> poll = Begin(entry);
  if (!poll) return true;
  const TaskKey& key = poll->key;
  aliyun::CallResult result = poll->account.client->DescribeExport(
      {key.action, key.export_id, key.rd_account_id},
      SaturatingAdd(clock_.SteadyNow(), poll->interval));
  Finish(*poll, result);
  return true;
}

std::optional<Poller::Started> Poller::Begin(const Entry& entry) {
  auto definition = store_.Definition(entry.id);
  if (!definition) return std::nullopt;
  Started poll{entry, definition->key, {}, {}};
  {
    std::lock_guard lock(mutex_);
    auto it = accounts_.find(poll.key.account);
    if (it == accounts_.end()) return std::nullopt;  // gone in a reload
    poll.account = it->second;
    poll.interval = poll_interval_;
  }
  if (observer_ != nullptr) {
    observer_->OnPollStarted(poll.key.account,
                             std::max(std::chrono::nanoseconds(0),
                                      clock_.SteadyNow() - entry.nominal));
  }
  return poll;
}

void Poller::OnWake() {
  SteadyTime now = clock_.SteadyNow();
  while (true) {
    Entry entry;
    {
      std::lock_guard lock(mutex_);
      if (in_flight_ >= concurrency_ ||
          !PopRunnable(SaturatingAdd(now, kBatchWindow), now, &entry)) {
        break;
      }
    }
    std::optional<Started> poll = Begin(entry);
    if (!poll) continue;
    ++in_flight_;
    const TaskKey& key = poll->key;
    aliyun::ExportQuery query{key.action, key.export_id, key.rd_account_id};
    SteadyTime deadline = SaturatingAdd(now, poll->interval);
    aliyun::ExportDescriber* client = poll->account.client;
    // The callback may run inside DescribeExportAsync (a blocking client),
    // so it only re-arms the timer, never starts the next poll itself.
    client->DescribeExportAsync(
        query, deadline,
        [this, poll = std::move(*poll)](aliyun::CallResult result) mutable {
          --in_flight_;
          Finish(poll, result);
          Release(std::move(poll.account.owner));
          Arm();
        });
  }
  if (now >= next_housekeeping_) {
    store_.ExpireFinished(clock_.Now());
    next_housekeeping_ = now + kHousekeepingPeriod;
  }
  Arm();
}

void Poller::Arm() {
  SteadyTime when = next_housekeeping_;
  {
    std::lock_guard lock(mutex_);
    arm_posted_ = false;
    if (!queue_.empty() && in_flight_ < concurrency_) {
      when = std::min(when, queue_.top().run_at);
    }
  }
  if (timer_ != 0) {
    if (timer_at_ == when) return;
    loop_.Cancel(timer_);
  }
  timer_at_ = when;
  // The loop's timers run on the real steady clock, the queue on clock_
  // (a fake one in tests): the wait is what carries over.
  auto wait = std::max(SteadyTime::duration::zero(), when - clock_.SteadyNow());
  timer_ = loop_.RunAt(std::chrono::steady_clock::now() + wait, [this] {
    timer_ = 0;
    OnWake();
  });
}

void Poller::Release(std::shared_ptr<const void> owner) {
  // Nobody else holds it, so nobody can take another reference meanwhile.
  if (owner.use_count() != 1) return;
  {
    std::lock_guard lock(mutex_);
    retired_.push_back(std::move(owner));
  }
  reaper_wake_.notify_one();
}

void Poller::ReaperLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    reaper_wake_.wait(lock,
                      [this] { return reaper_stopping_ || !retired_.empty(); });
    if (retired_.empty()) return;  // stopping
    std::vector<std::shared_ptr<const void>> retired;
    retired.swap(retired_);
    lock.unlock();
    retired.clear();
    lock.lock();
  }
}

void Poller::Push(const Entry& entry) {
  bool post = false;
  bool arm_here = false;
  {
    std::lock_guard lock(mutex_);
    bool new_top = queue_.empty() || entry.run_at < queue_.top().run_at;
    queue_.push(entry);
    if (new_top && running_) {
      // On the loop's thread the caller (a poll's callback) arms the timer
      // when it is done.
      arm_here = loop_.InLoopThread();
      post = !arm_here && !arm_posted_;
      if (post) arm_posted_ = true;
    }
  }
  if (post) loop_.Post([this] { Arm(); });
}

void Poller::Finish(const Started& poll, const aliyun::CallResult& result) {
  const TaskKey& key = poll.key;
  if (observer_ != nullptr &&
      (result.ok() ||
       result.error().kind != aliyun::ApiErrorKind::kCancelled)) {
    observer_->OnPollFinished(key.account, result);
  }

  WallTime now = clock_.Now();
  if (result.ok()) {
    const aliyun::ExportInfo& info = result.info();
    bool new_unknown_status = false;
    store_.RecordSuccess(poll.entry.id, info, now, &new_unknown_status);
    std::string status = info.export_status.value_or("");
    if (new_unknown_status) {
      log::Warn(
          "Export status not documented for the action; shown as "
          "unknown",
          {{"task", key.ToString()},
           {"action", std::string(aliyun::ExportActionName(key.action))},
           {"status", status}});
    }
    if (log::Enabled(log::Level::kDebug)) {
      log::Debug("Polled export",
                 {{"task", key.ToString()},
                  {"status", status},
                  {"progress", info.progress ? std::to_string(*info.progress)
                                             : std::string("absent")}});
    }
  } else {
    const aliyun::ApiError& error = result.error();
    if (error.kind == aliyun::ApiErrorKind::kCancelled) return;
    std::optional<std::string> previous =
        store_.RecordFailure(poll.entry.id, error, now);
    // Warn when a task starts failing or fails differently; repeats of the
    // same failure are debug, so an outage doesn't flood the log.
    log::Level level = previous && *previous != error.code ? log::Level::kWarn
                                                           : log::Level::kDebug;
    if (log::Enabled(level))
      log::Write(level, "Poll failed",
                 {{"task", key.ToString()},
                  {"code", error.code},
                  {"http_status", std::to_string(error.http_status)},
                  {"request_id", error.request_id},
                  {"attempts", std::to_string(result.attempts)},
                  {"err", error.message}});
  }
  store_.ExpireFinished(now);
  if (!store_.NeedsPolling(poll.entry.id)) return;

  SteadyTime next = SaturatingAdd(poll.entry.nominal, poll.interval);
  SteadyTime steady_now = clock_.SteadyNow();
  // Far behind (a long outage or a suspended host): restart the phase.
  if (SaturatingAdd(next, poll.interval) < steady_now) {
    next = steady_now;
  }
  Push(Entry{next, next, poll.entry.id, false});
}

}  // namespace sas::poll
