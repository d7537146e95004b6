#include "util/shared_run.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/wait.h"

namespace sas {
namespace {

using testing::WaitUntil;

// A run that returns its own number (from 1), throws when that is the
// number set by FailRun, and, while held, stays under way until released.
class Gate {
 public:
  int Run() {
    std::unique_lock lock(mutex_);
    int number = ++started_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
    if (number == fail_run_) throw std::runtime_error("render failed");
    return number;
  }
  void Hold() {
    std::lock_guard lock(mutex_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  void FailRun(int number) {
    std::lock_guard lock(mutex_);
    fail_run_ = number;
  }
  int started() {
    std::lock_guard lock(mutex_);
    return started_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  int fail_run_ = 0;
  int started_ = 0;
};

TEST(SharedRun, EachCallAloneRunsOnce) {
  Gate gate;
  SharedRun<int> shared([&] { return gate.Run(); });
  EXPECT_EQ(*shared.Get(), 1);
  EXPECT_EQ(*shared.Get(), 2);
  EXPECT_EQ(shared.runs(), 2u);
}

// Callers arriving during run 1 must not get its result (it began before
// them): they share run 2, and nothing else runs.
TEST(SharedRun, CallersArrivingDuringARunShareTheNextOne) {
  Gate gate;
  SharedRun<int> shared([&] { return gate.Run(); });
  gate.Hold();
  int first = 0;
  std::thread leader([&] { first = *shared.Get(); });
  ASSERT_TRUE(WaitUntil([&] { return gate.started() == 1; }));
  std::vector<int> later(3);
  std::vector<std::thread> followers;
  for (int& result : later) {
    followers.emplace_back([&] { result = *shared.Get(); });
  }
  ASSERT_TRUE(WaitUntil([&] { return shared.waiting() == 3; }));
  gate.Release();
  leader.join();
  for (std::thread& follower : followers) follower.join();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(later, std::vector<int>({2, 2, 2}));
  EXPECT_EQ(shared.runs(), 2u);
  EXPECT_EQ(shared.waiting(), 0u);
}

TEST(SharedRun, AFailedRunFailsItsSharersAndTheNextCallRunsAgain) {
  Gate gate;
  SharedRun<int> shared([&] { return gate.Run(); });
  gate.FailRun(2);
  gate.Hold();
  std::thread leader([&] { EXPECT_EQ(*shared.Get(), 1); });
  ASSERT_TRUE(WaitUntil([&] { return gate.started() == 1; }));
  std::vector<std::thread> followers;
  for (int i = 0; i < 2; ++i) {
    followers.emplace_back(
        [&] { EXPECT_THROW(shared.Get(), std::runtime_error); });
  }
  ASSERT_TRUE(WaitUntil([&] { return shared.waiting() == 2; }));
  gate.Release();
  leader.join();
  for (std::thread& follower : followers) follower.join();
  EXPECT_EQ(gate.started(), 2);
  EXPECT_EQ(*shared.Get(), 3);
}

}  // namespace
}  // namespace sas
