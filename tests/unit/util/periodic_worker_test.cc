#include "util/periodic_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "support/wait.h"

namespace sas {
namespace {

using std::chrono::steady_clock;

TEST(PeriodicWorker, RunsEveryPeriodUntilStopped) {
  std::atomic<int> runs{0};
  PeriodicWorker worker(Millis(5), [&] { ++runs; });
  testing::WaitUntil([&] { return runs >= 3; }, testing::Seconds(10));
  EXPECT_GE(runs, 3);
  worker.Stop();
  int after_stop = runs;
  worker.Stop();  // idempotent
  EXPECT_EQ(runs, after_stop);
}

TEST(PeriodicWorker, StopWakesALongWaitAtOnceWithoutRunning) {
  std::atomic<int> runs{0};
  auto start = steady_clock::now();
  {
    PeriodicWorker worker(Millis(3'600'000), [&] { ++runs; });
  }
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace sas
