#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "aliyun/sas_client.h"
#include "poll/task_scheduler.h"
#include "poll/task_store.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/event_loop.h"
#include "util/token_bucket.h"

namespace sas::poll {

// What the poller needs of one account: its client and its rate limit.
struct AccountHandle {
  aliyun::ExportDescriber* client = nullptr;
  TokenBucket* bucket = nullptr;
  // Keeps client and bucket alive while a poll uses them, also after
  // Reconfigure dropped the account; null when they outlive the poller.
  std::shared_ptr<const void> owner;
};

// Sees the poller's work, for self-monitoring metrics. Thread-safe.
class PollObserver {
 public:
  virtual ~PollObserver() = default;
  // A poll of one of `account`'s tasks starts `lag` after its slot (its due
  // time): the wait for a token of the account's rate limit and for room
  // under `concurrency`. Never negative.
  virtual void OnPollStarted(const std::string& account,
                             std::chrono::nanoseconds lag) = 0;
  // The poll ended with `result` (after its retries). Not called for a poll
  // cancelled by shutdown.
  virtual void OnPollFinished(const std::string& account,
                              const aliyun::CallResult& result) = 0;
};

struct PollerOptions {
  Millis poll_interval{60'000};
  // Polls under way at once (a request in flight or a retry's wait), all
  // accounts together.
  int concurrency = 4;
  // Not owned; may be null. Must outlive the poller.
  PollObserver* observer = nullptr;
  // The loop the polls run on, which the accounts' clients send through;
  // the poller runs it on its thread from Start to Stop. Not owned; must
  // outlive the poller. Null: the poller makes a loop of its own.
  EventLoop* loop = nullptr;
};

// Polls every tracked task once per interval, spread evenly over the
// interval, on one thread running an event loop: each poll is a
// DescribeExportAsync on the task's account, and polls due within
// kBatchWindow of each other start on one wake-up. A task waits in the
// queue until its account's bucket has a token. Finished tasks are not
// polled again. Thread-safe.
class Poller : public TaskScheduler {
 public:
  // Polls due this close together start on one wake-up.
  static constexpr std::chrono::milliseconds kBatchWindow{5};

  Poller(PollerOptions options, TaskStore& store,
         std::map<std::string, AccountHandle> accounts, const Clock& clock);
  ~Poller() override;

  void Schedule(TaskId id, SteadyTime first_due) override;
  void ScheduleSpread(const std::vector<TaskId>& ids) override;

  // Replaces the interval and the accounts, for a configuration reload.
  // Queued tasks keep their next slot, later slots follow the new interval;
  // polls under way finish with the account they started with. A task
  // whose account is gone is dropped when its turn comes.
  void Reconfigure(Millis poll_interval,
                   std::map<std::string, AccountHandle> accounts);
  // Changes how many polls may be under way at once (at least 1); polls
  // already under way above a lowered limit finish.
  void SetConcurrency(int concurrency);

  // Starts the loop's thread. Once.
  void Start();
  // Stops the loop and waits for its thread; polls under way are abandoned
  // (their callbacks never run). Releases the accounts polls left behind.
  void Stop();

  // Polls the earliest task that is due on the clock, in the calling thread,
  // with the blocking DescribeExport. Returns false when none is due. For
  // tests, while the loop is not running.
  bool RunOnce();

  // The queue's length, for tests.
  size_t queued() const;

 private:
  struct Entry {
    SteadyTime run_at;   // when the entry may run
    SteadyTime nominal;  // the slot it belongs to; next = nominal + interval
    TaskId id;
    bool has_token;  // a bucket token was reserved for run_at
    bool operator>(const Entry& other) const { return run_at > other.run_at; }
  };
  // What a poll needs once it has started.
  struct Started {
    Entry entry;
    TaskKey key;
    AccountHandle account;
    Millis interval;
  };

  // Pops an entry due by `due_by` whose account has a token at `now`
  // (reserving it, requeueing those that must wait). Requires mutex_ held.
  bool PopRunnable(SteadyTime due_by, SteadyTime now, Entry* out);
  // Looks the entry's task and account up and tells the observer; nullopt
  // when either is gone.
  std::optional<Started> Begin(const Entry& entry);
  // Records the outcome and queues the next slot.
  void Finish(const Started& poll, const aliyun::CallResult& result);
  // Queues an entry; wakes the loop if it is now the earliest.
  void Push(const Entry& entry);

  // The loop thread's side.
  // Starts every poll due within kBatchWindow while there is room, forgets
  // expired finished tasks once a second, and arms the next wake-up.
  void OnWake();
  // Sets the one timer to the earliest queued entry (or the next
  // housekeeping, or nothing startable while `concurrency` polls run).
  void Arm();
  // Hands an account the last poll held to the reaper thread, which
  // destroys it: an account's destructor may block (it stops its
  // credentials refresher), and the loop's thread must not.
  void Release(std::shared_ptr<const void> owner);
  void ReaperLoop();

  PollObserver* const observer_;
  TaskStore& store_;
  const Clock& clock_;
  std::unique_ptr<EventLoop> own_loop_;
  EventLoop& loop_;
  std::thread thread_;
  std::thread reaper_;

  // Used on the loop's thread only.
  int in_flight_ = 0;
  EventLoop::TimerId timer_ = 0;
  SteadyTime timer_at_;
  SteadyTime next_housekeeping_;

  mutable std::mutex mutex_;
  std::condition_variable reaper_wake_;
  // Guarded by mutex_.
  int concurrency_;
  Millis poll_interval_;
  std::map<std::string, AccountHandle> accounts_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
  bool running_ = false;
  // An Arm() has been posted to the loop and has not run yet.
  bool arm_posted_ = false;
  bool reaper_stopping_ = false;
  std::vector<std::shared_ptr<const void>> retired_;
};

}  // namespace sas::poll
