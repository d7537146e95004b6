#include "poll/poller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>

#include "support/fake_clock.h"
#include "support/wait.h"

namespace sas::poll {
namespace {

using ::sas::testing::FakeClock;

using std::chrono::milliseconds;
using std::chrono::seconds;

// Describes exports from a per-ExportId table of progress values, as
// "describe this export" is all the poller asks of an account.
class TableDescriber : public aliyun::ExportDescriber {
 public:
  TableDescriber(const Clock& clock, std::mutex& mutex,
                 std::map<long, int>& progress, int& calls,
                 std::vector<SteadyTime>& calls_at)
      : clock_(clock),
        mutex_(mutex),
        progress_(progress),
        calls_(calls),
        calls_at_(calls_at) {}

  aliyun::CallResult DescribeExport(const aliyun::ExportQuery& query,
                                    SteadyTime) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    calls_at_.push_back(clock_.SteadyNow());
    aliyun::CallResult result;
    result.attempts = 1;
    auto it = progress_.find(static_cast<long>(query.export_id));
    if (it == progress_.end()) {
      aliyun::ApiError error;
      error.code = "InvalidExportId.NotFound";
      error.message = "no";
      error.http_status = 400;
      result.outcome = error;
    } else {
      int p = it->second;
      aliyun::ExportInfo info;
      info.id = query.export_id;
      info.progress = p;
      info.current_count = p;
      info.total_count = 100;
      info.export_status = p >= 100 ? "success" : "exporting";
      result.outcome = info;
    }
    return result;
  }

 private:
  const Clock& clock_;
  std::mutex& mutex_;
  std::map<long, int>& progress_;
  int& calls_;
  std::vector<SteadyTime>& calls_at_;
};

// Records what the poller reports.
class RecordingObserver : public PollObserver {
 public:
  void OnPollStarted(const std::string& account,
                     std::chrono::nanoseconds lag) override {
    std::lock_guard lock(mutex_);
    lags_.emplace_back(account, lag);
  }
  void OnPollFinished(const std::string& account,
                      const aliyun::CallResult& result) override {
    std::lock_guard lock(mutex_);
    results_.emplace_back(account, result.ok() ? "ok" : result.error().code);
  }
  std::vector<std::pair<std::string, std::chrono::nanoseconds>> lags() {
    std::lock_guard lock(mutex_);
    return lags_;
  }
  std::vector<std::pair<std::string, std::string>> results() {
    std::lock_guard lock(mutex_);
    return results_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::chrono::nanoseconds>> lags_;
  std::vector<std::pair<std::string, std::string>> results_;
};

class PollerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Poller> MakePoller(double rate = 1000,
                                     Millis interval = Millis(60'000),
                                     PollObserver* observer = nullptr) {
    bucket_ = std::make_unique<TokenBucket>(rate, rate, clock_);
    return std::make_unique<Poller>(PollerOptions{interval, 2, observer},
                                    store_,
                                    std::map<std::string, AccountHandle>{
                                        {"prod", {&describer_, bucket_.get()}}},
                                    clock_);
  }

  int RunAllDue(Poller& poller) {
    int n = 0;
    while (poller.RunOnce()) ++n;
    return n;
  }

  FakeClock clock_;
  TaskStore store_{std::chrono::hours(1)};
  std::unique_ptr<TokenBucket> bucket_;
  std::mutex mutex_;
  std::map<long, int> progress_;
  int calls_ = 0;
  std::vector<SteadyTime> calls_at_;
  TableDescriber describer_{clock_, mutex_, progress_, calls_, calls_at_};
};

TEST_F(PollerTest, SpreadsFirstPollsEvenlyOverTheInterval) {
  auto poller = MakePoller();
  std::vector<TaskId> ids;
  for (long i = 1; i <= 4; ++i) {
    progress_[i] = 10;
    ids.push_back(store_.Add({{"prod", i, std::nullopt}, ""}, WallTime{}));
  }
  SteadyTime start = clock_.SteadyNow();
  poller->ScheduleSpread(ids);
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(seconds(15));
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(seconds(15));
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(seconds(15));
  EXPECT_EQ(RunAllDue(*poller), 1);
  EXPECT_TRUE(store_.AllPolledOnce());
  // The second round keeps the phases: one poll per 15 s again.
  clock_.Advance(seconds(15));
  EXPECT_EQ(RunAllDue(*poller), 1);
  ASSERT_EQ(calls_at_.size(), 5u);
  EXPECT_EQ(calls_at_[4] - start, seconds(60));
}

TEST_F(PollerTest, ReconfigureSwitchesAccountsAndIntervalKeepingSlots) {
  auto poller = MakePoller();
  progress_[1] = 10;
  TaskId id = store_.Add({{"prod", 1, std::nullopt}, ""}, WallTime{});
  SteadyTime start = clock_.SteadyNow();
  poller->Schedule(id, start);
  EXPECT_EQ(RunAllDue(*poller), 1);

  // A new client for "prod", owned by the handle alone, and a 30 s interval:
  // the queued slot (60 s) stays, the one after follows the new interval.
  std::mutex other_mutex;
  std::map<long, int> other_progress{{1, 20}};
  int other_calls = 0;
  std::vector<SteadyTime> other_at;
  auto other = std::make_shared<TableDescriber>(
      clock_, other_mutex, other_progress, other_calls, other_at);
  std::weak_ptr<TableDescriber> watch = other;
  poller->Reconfigure(Millis(30'000),
                      {{"prod", {other.get(), bucket_.get(), other}}});
  other.reset();
  EXPECT_FALSE(watch.expired());  // the poller keeps it alive
  clock_.Advance(seconds(59));
  EXPECT_EQ(RunAllDue(*poller), 0);
  clock_.Advance(seconds(1));
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(seconds(30));
  EXPECT_EQ(RunAllDue(*poller), 1);
  EXPECT_EQ(calls_, 1);
  ASSERT_EQ(other_at.size(), 2u);
  EXPECT_EQ(other_at[1] - start, seconds(90));
  EXPECT_EQ(store_.Snapshot().at(0).progress, 20);

  // The account gone: its task's turn comes and goes without a call, and
  // the account's client is released.
  poller->Reconfigure(Millis(30'000), {});
  EXPECT_TRUE(watch.expired());
  clock_.Advance(seconds(30));
  EXPECT_EQ(RunAllDue(*poller), 0);
  EXPECT_EQ(poller->queued(), 0u);
}

TEST_F(PollerTest, HugeIntervalDoesNotOverflowTheSchedule) {
  auto poller = MakePoller(/*rate=*/1000, Millis(std::chrono::hours(2562048)));
  std::vector<TaskId> ids;
  for (long i = 1; i <= 2; ++i) {
    progress_[i] = 10;
    ids.push_back(store_.Add({{"prod", i, std::nullopt}, ""}, WallTime{}));
  }
  poller->ScheduleSpread(ids);
  // The second task's first poll is half the interval away, the first
  // task's next a whole interval: neither within ten years.
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(std::chrono::hours(24 * 3650));
  EXPECT_EQ(RunAllDue(*poller), 0);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(poller->queued(), 2u);
}

TEST_F(PollerTest, FinishedTaskIsNotPolledAgain) {
  auto poller = MakePoller();
  progress_[7] = 100;
  TaskId id = store_.Add({{"prod", 7, std::nullopt}, ""}, WallTime{});
  poller->Schedule(id, clock_.SteadyNow());
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(seconds(120));
  EXPECT_EQ(RunAllDue(*poller), 0);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(poller->queued(), 0u);
}

TEST_F(PollerTest, FailingTaskKeepsBeingPolled) {
  auto poller = MakePoller();
  TaskId id = store_.Add({{"prod", 404, std::nullopt}, ""}, WallTime{});
  poller->Schedule(id, clock_.SteadyNow());
  EXPECT_EQ(RunAllDue(*poller), 1);
  EXPECT_FALSE(store_.Snapshot()[0].up);
  EXPECT_EQ(store_.Snapshot()[0].last_error_code, "InvalidExportId.NotFound");
  clock_.Advance(seconds(60));
  EXPECT_EQ(RunAllDue(*poller), 1);
}

TEST_F(PollerTest, RateLimitDelaysTasksInTheQueueNotInAWorker) {
  auto poller = MakePoller(/*rate=*/1);
  std::vector<TaskId> ids;
  for (long i = 1; i <= 3; ++i) {
    progress_[i] = 1;
    TaskId id = store_.Add({{"prod", i, std::nullopt}, ""}, WallTime{});
    poller->Schedule(id, clock_.SteadyNow());
  }
  EXPECT_EQ(RunAllDue(*poller), 1);  // one token available now
  EXPECT_EQ(poller->queued(), 3u);   // two waiting for tokens + the next round
  clock_.Advance(seconds(1));
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(seconds(1));
  EXPECT_EQ(RunAllDue(*poller), 1);
  EXPECT_EQ(calls_, 3);
}

TEST_F(PollerTest, ReportsHowLateEachPollStartsAndHowItEnded) {
  // Three tasks due now, one request per second allowed: the second starts
  // 1 s late, the third (polled 2.5 s in) 2.5 s late.
  RecordingObserver observer;
  auto poller = MakePoller(/*rate=*/1, Millis(60'000), &observer);
  progress_[1] = 1;
  progress_[2] = 1;
  for (long id : {1L, 2L, 404L}) {
    poller->Schedule(store_.Add({{"prod", id, std::nullopt}, ""}, WallTime{}),
                     clock_.SteadyNow());
  }
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(seconds(1));
  EXPECT_EQ(RunAllDue(*poller), 1);
  clock_.Advance(milliseconds(1500));
  EXPECT_EQ(RunAllDue(*poller), 1);
  using Lag = std::pair<std::string, std::chrono::nanoseconds>;
  EXPECT_EQ(observer.lags(), (std::vector<Lag>{{"prod", seconds(0)},
                                               {"prod", seconds(1)},
                                               {"prod", milliseconds(2500)}}));
  using Result = std::pair<std::string, std::string>;
  EXPECT_EQ(observer.results(),
            (std::vector<Result>{{"prod", "ok"},
                                 {"prod", "ok"},
                                 {"prod", "InvalidExportId.NotFound"}}));
  // The next round's slots are a poll_interval after the first ones, not
  // after the late starts: on time again once the queue has drained.
  clock_.Advance(milliseconds(57'500));
  EXPECT_EQ(RunAllDue(*poller), 1);
  EXPECT_EQ(observer.lags().back().second, seconds(0));
}

TEST_F(PollerTest, RemovedTaskIsDropped) {
  auto poller = MakePoller();
  progress_[1] = 5;
  TaskId id = store_.Add({{"prod", 1, std::nullopt}, ""}, WallTime{});
  poller->Schedule(id, clock_.SteadyNow());
  store_.Remove({"prod", 1, std::nullopt});
  EXPECT_EQ(RunAllDue(*poller), 0);
  EXPECT_EQ(calls_, 0);
}

TEST_F(PollerTest, WorkersPollInTheBackgroundAndStop) {
  // Real threads with the fake clock: every task is due at once.
  auto poller = MakePoller();
  for (long i = 1; i <= 20; ++i) {
    progress_[i] = 50;
    poller->Schedule(store_.Add({{"prod", i, std::nullopt}, ""}, WallTime{}),
                     clock_.SteadyNow());
  }
  poller->Start();
  testing::WaitUntil([&] { return store_.AllPolledOnce(); },
                     testing::Seconds(10));
  EXPECT_TRUE(store_.AllPolledOnce());
  poller->Stop();
  EXPECT_EQ(calls_, 20);
}

// Answers on the event loop a little later, as a transport would, and
// records how many polls were under way at once.
class LoopDescriber : public aliyun::ExportDescriber {
 public:
  explicit LoopDescriber(EventLoop& loop) : loop_(loop) {}

  aliyun::CallResult DescribeExport(const aliyun::ExportQuery&,
                                    SteadyTime) override {
    ADD_FAILURE() << "the poller's loop must not block";
    return {};
  }
  void DescribeExportAsync(const aliyun::ExportQuery& query, SteadyTime,
                           DescribeDone done) override {
    EXPECT_TRUE(loop_.InLoopThread());
    {
      std::lock_guard lock(mutex_);
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      started_.push_back(query.export_id);
    }
    loop_.RunAt(std::chrono::steady_clock::now() + milliseconds(20),
                [this, query, done = std::move(done)] {
                  {
                    std::lock_guard lock(mutex_);
                    --in_flight_;
                  }
                  aliyun::ExportInfo info;
                  info.id = query.export_id;
                  info.progress = 50;
                  info.export_status = "exporting";
                  done({info, 1});
                });
  }
  std::vector<int64_t> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  int max_in_flight() {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }

 private:
  EventLoop& loop_;
  std::mutex mutex_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::vector<int64_t> started_;
};

TEST(EventLoopPoller, KeepsAtMostConcurrencyPollsUnderWay) {
  FakeClock clock;
  TaskStore store{std::chrono::hours(1)};
  EventLoop loop;
  LoopDescriber describer(loop);
  Poller poller(PollerOptions{Millis(60'000), 3, nullptr, &loop}, store,
                {{"prod", {&describer, nullptr}}}, clock);
  for (long i = 1; i <= 12; ++i) {
    poller.Schedule(store.Add({{"prod", i, std::nullopt}, ""}, WallTime{}),
                    clock.SteadyNow());
  }
  poller.Start();
  testing::WaitUntil([&] { return store.AllPolledOnce(); },
                     testing::Seconds(10));
  poller.Stop();
  EXPECT_TRUE(store.AllPolledOnce());
  EXPECT_EQ(describer.started().size(), 12u);
  EXPECT_EQ(describer.max_in_flight(), 3);
}

TEST(EventLoopPoller, StartsPollsDueWithinTheBatchWindowTogether) {
  // The fake clock stands still: only batching starts the tasks due after
  // now, and the one due past the window waits until the clock gets there.
  FakeClock clock;
  TaskStore store{std::chrono::hours(1)};
  EventLoop loop;
  LoopDescriber describer(loop);
  Poller poller(PollerOptions{Millis(60'000), 8, nullptr, &loop}, store,
                {{"prod", {&describer, nullptr}}}, clock);
  SteadyTime now = clock.SteadyNow();
  for (long i = 1; i <= 3; ++i) {
    poller.Schedule(store.Add({{"prod", i, std::nullopt}, ""}, WallTime{}),
                    now + milliseconds(2 * (i - 1)));
  }
  poller.Schedule(store.Add({{"prod", 4, std::nullopt}, ""}, WallTime{}),
                  now + Poller::kBatchWindow + milliseconds(50));
  poller.Start();
  testing::WaitUntil([&] { return describer.started().size() >= 3; },
                     testing::Seconds(10));
  EXPECT_EQ(describer.started(), (std::vector<int64_t>{1, 2, 3}));
  clock.Advance(Poller::kBatchWindow + milliseconds(50));
  testing::WaitUntil([&] { return describer.started().size() >= 4; },
                     testing::Seconds(10));
  poller.Stop();
  EXPECT_EQ(describer.started(), (std::vector<int64_t>{1, 2, 3, 4}));
}
}  // namespace
}  // namespace sas::poll
