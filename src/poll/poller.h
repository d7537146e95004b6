#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "aliyun/sas_client.h"
#include "poll/task_scheduler.h"
#include "poll/task_store.h"
#include "util/clock.h"
#include "util/duration.h"
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
  // time): the wait for a token of the account's rate limit and for a free
  // worker. Never negative.
  virtual void OnPollStarted(const std::string& account,
                             std::chrono::nanoseconds lag) = 0;
  // The poll ended with `result` (after its retries). Not called for a poll
  // cancelled by shutdown.
  virtual void OnPollFinished(const std::string& account,
                              const aliyun::CallResult& result) = 0;
};

struct PollerOptions {
  Millis poll_interval{60'000};
  // Worker threads: API requests in flight, all accounts together.
  int concurrency = 4;
  // Not owned; may be null. Must outlive the poller.
  PollObserver* observer = nullptr;
};

// Polls every tracked task once per interval, spread evenly over the
// interval, in `concurrency` worker threads. A task waits in the queue (not in
// a worker) until its account's bucket has a token. Finished tasks are not
// polled again. Thread-safe.
class Poller : public TaskScheduler {
 public:
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

  // Starts the workers.
  void Start();
  // Stops the workers and waits for them. Requests in flight must be
  // cancelled by the caller first (HttpTransport::CancelAll, Sleeper::Stop)
  // for this to return promptly.
  void Stop();

  // Polls the earliest task that is due on the clock, in the calling thread.
  // Returns false when none is due. For tests (no workers needed).
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

  // Pops a runnable entry (reserving tokens, requeueing those that must
  // wait). Requires mutex_ held. Returns false when none is runnable now.
  bool PopRunnable(SteadyTime now, Entry* out);
  void Poll(const Entry& entry);
  // Queues an entry, waking the workers if it is now the earliest.
  void Push(const Entry& entry);
  void WorkerLoop();

  const int concurrency_;
  PollObserver* const observer_;
  TaskStore& store_;
  const Clock& clock_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  Millis poll_interval_;
  std::map<std::string, AccountHandle> accounts_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
  bool stopping_ = false;
  // A worker is waiting for the earliest entry's time.
  bool timekeeper_ = false;
  // Moving average of how long one Poll() takes.
  std::chrono::nanoseconds poll_duration_{std::chrono::milliseconds(100)};
  std::vector<std::thread> workers_;
};

}  // namespace sas::poll
