#include "util/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/wait.h"

namespace sas {
namespace {

using std::chrono::milliseconds;

// A connected pair of non-blocking stream sockets, closed at the end.
struct SocketPair {
  SocketPair() {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  }
  ~SocketPair() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  int fds[2] = {-1, -1};
};

void WriteByte(int fd) { ASSERT_EQ(write(fd, "x", 1), 1); }

// Runs `loop` on its own thread until the end of the scope.
class LoopThread {
 public:
  explicit LoopThread(EventLoop& loop)
      : loop_(loop), thread_([this] { loop_.Run(); }) {}
  ~LoopThread() {
    loop_.Stop();
    thread_.join();
  }

 private:
  EventLoop& loop_;
  std::thread thread_;
};

TEST(EventLoop, StopBeforeRunReturnsAtOnce) {
  EventLoop loop;
  loop.Stop();
  loop.Run();  // returns; a hang fails the test by its CTest timeout
  // Stop is consumed: the next Run dispatches again until the next Stop.
  bool ran = false;
  loop.Post([&] {
    ran = true;
    loop.Stop();
  });
  loop.Run();
  EXPECT_TRUE(ran);
}

TEST(EventLoop, PostFromAnotherThreadWakesAnIdleLoop) {
  EventLoop loop;
  LoopThread running(loop);
  // No descriptors and no timers: the loop sleeps in epoll_wait without a
  // timeout, and only the post's wake-up can get it out.
  for (int i = 0; i < 3; ++i) {
    std::promise<bool> in_loop_thread;
    auto answered = in_loop_thread.get_future();
    std::thread poster([&] {
      loop.Post([&] { in_loop_thread.set_value(loop.InLoopThread()); });
    });
    poster.join();
    ASSERT_EQ(answered.wait_for(testing::Scaled(testing::Seconds(10))),
              std::future_status::ready);
    EXPECT_TRUE(answered.get());
  }
  EXPECT_FALSE(loop.InLoopThread());
}

TEST(EventLoop, PostsRunInOrderAndOnesPostedByPostsRunLater) {
  EventLoop loop;
  std::vector<int> order;
  loop.Post([&] {
    order.push_back(1);
    loop.Post([&] {
      order.push_back(3);
      loop.Stop();
    });
  });
  loop.Post([&] { order.push_back(2); });
  loop.Run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
  EventLoop loop;
  std::promise<void> started;
  std::thread thread([&] {
    loop.Post([&] { started.set_value(); });
    loop.Run();
  });
  started.get_future().wait();
  auto begun = std::chrono::steady_clock::now();
  loop.Stop();
  thread.join();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(5));
}

TEST(EventLoop, TimersFireInTimeOrderThenInTheOrderSet) {
  EventLoop loop;
  std::vector<std::string> fired;
  auto base = std::chrono::steady_clock::now();
  loop.RunAt(base + milliseconds(60), [&] {
    fired.push_back("60");
    loop.Stop();
  });
  loop.RunAt(base + milliseconds(20), [&] { fired.push_back("20a"); });
  loop.RunAt(base + milliseconds(40), [&] { fired.push_back("40"); });
  loop.RunAt(base + milliseconds(20), [&] { fired.push_back("20b"); });
  loop.Run();
  EXPECT_EQ(fired, (std::vector<std::string>{"20a", "20b", "40", "60"}));
  // Never early.
  EXPECT_GE(loop.Now(), base + milliseconds(60));
}

TEST(EventLoop, CancelledTimersDoNotFire) {
  EventLoop loop;
  auto base = std::chrono::steady_clock::now();
  bool cancelled_fired = false;
  EventLoop::TimerId cancelled =
      loop.RunAt(base + milliseconds(10), [&] { cancelled_fired = true; });
  loop.RunAt(base + milliseconds(30), [&] { loop.Stop(); });
  loop.Cancel(cancelled);
  loop.Cancel(cancelled);  // twice: nothing
  loop.Cancel(12345);      // unknown: nothing
  loop.Run();
  EXPECT_FALSE(cancelled_fired);
}

TEST(EventLoop, ATimerCancelledByAnotherDueInTheSameRoundDoesNotFire) {
  EventLoop loop;
  auto past = std::chrono::steady_clock::now() - milliseconds(5);
  // Both are due in the first round; the first cancels the second, which
  // may own state the first one has freed.
  auto victim = std::make_shared<EventLoop::TimerId>(0);
  bool victim_fired = false;
  loop.RunAt(past, [&] { loop.Cancel(*victim); });
  *victim = loop.RunAt(past, [&] { victim_fired = true; });
  loop.RunAt(past + milliseconds(1), [&] { loop.Stop(); });
  loop.Run();
  EXPECT_FALSE(victim_fired);
}

TEST(EventLoop, ATimerSetByATimerForThePastRunsInTheNextRound) {
  EventLoop loop;
  std::vector<int> order;
  auto past = std::chrono::steady_clock::now() - milliseconds(5);
  loop.RunAt(past, [&] {
    order.push_back(1);
    loop.RunAt(past, [&] {
      order.push_back(3);
      loop.Stop();
    });
    loop.Post([&] { order.push_back(2); });
  });
  loop.Run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, ReportsReadinessUntilUnwatchedInsideItsCallback) {
  EventLoop loop;
  SocketPair pair;
  int calls = 0;
  ASSERT_TRUE(loop.Watch(pair.fds[0], EPOLLIN, [&](uint32_t events) {
    ++calls;
    EXPECT_TRUE(events & EPOLLIN);
    // Not read: level-triggered readiness would report it again, but the
    // callback unwatches itself, which destroys it only after the round.
    loop.Unwatch(pair.fds[0]);
    loop.Post([&] { loop.Stop(); });
  }));
  WriteByte(pair.fds[1]);
  loop.Run();
  EXPECT_EQ(calls, 1);
  // Unwatched: more data reports nothing.
  WriteByte(pair.fds[1]);
  auto soon = std::chrono::steady_clock::now() + milliseconds(50);
  loop.RunAt(soon, [&] { loop.Stop(); });
  loop.Run();
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, ADescriptorUnwatchedByAnEarlierCallbackOfTheRoundIsSkipped) {
  EventLoop loop;
  SocketPair first, second;
  int calls = 0;
  // Both are ready in the same round; whichever runs first unwatches the
  // other, closes it and watches a new descriptor with the same number:
  // the event collected for the old one must not reach the new callback.
  std::vector<int> fds = {first.fds[0], second.fds[0]};
  bool replacement_called = false;
  auto on_ready = [&](int self) {
    return [&, self](uint32_t) {
      ++calls;
      int other = self == fds[0] ? fds[1] : fds[0];
      loop.Unwatch(self);
      loop.Unwatch(other);
      close(other);
      int replacement = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (replacement != other) {
        dup2(replacement, other);
        close(replacement);
        replacement = other;
      }
      EXPECT_TRUE(loop.Watch(replacement, EPOLLIN,
                             [&](uint32_t) { replacement_called = true; }));
      loop.Post([&, replacement] {
        loop.Unwatch(replacement);
        close(replacement);
        loop.Stop();
      });
      if (other == first.fds[0]) first.fds[0] = -1;
      if (other == second.fds[0]) second.fds[0] = -1;
    };
  };
  ASSERT_TRUE(loop.Watch(fds[0], EPOLLIN, on_ready(fds[0])));
  ASSERT_TRUE(loop.Watch(fds[1], EPOLLIN, on_ready(fds[1])));
  WriteByte(first.fds[1]);
  WriteByte(second.fds[1]);
  loop.Run();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(replacement_called);
  loop.Unwatch(first.fds[0]);
  loop.Unwatch(second.fds[0]);
}

TEST(EventLoop, ModifyChangesTheReportedEvents) {
  EventLoop loop;
  SocketPair pair;
  std::vector<uint32_t> seen;
  ASSERT_TRUE(loop.Watch(pair.fds[0], EPOLLIN, [&](uint32_t events) {
    seen.push_back(events & (EPOLLIN | EPOLLOUT));
    if (seen.size() == 1) {
      // The socket has room to write: EPOLLOUT fires once asked for.
      EXPECT_TRUE(loop.Modify(pair.fds[0], EPOLLOUT));
    } else {
      loop.Unwatch(pair.fds[0]);
      loop.Stop();
    }
  }));
  // Nothing to read yet, so the first report can only come from a Post...
  loop.Post([&] { WriteByte(pair.fds[1]); });
  loop.Run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], static_cast<uint32_t>(EPOLLIN));
  // ...and the second, with the byte unread, reports only EPOLLOUT.
  EXPECT_EQ(seen[1], static_cast<uint32_t>(EPOLLOUT));
  EXPECT_FALSE(loop.Modify(pair.fds[0], EPOLLIN));  // no longer watched
}

TEST(EventLoop, WatchRefusesADescriptorEpollCannotWatch) {
  EventLoop loop;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  close(fds[1]);
  EXPECT_FALSE(loop.Watch(fds[0], EPOLLIN, [](uint32_t) {}));
}

TEST(EventLoop, DestroysPendingCallbacksWithoutRunningThem) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto tracker = std::make_shared<int>(0);
  {
    EventLoop loop;
    loop.Post([ran, tracker] { ++*ran; });
    loop.RunAt(std::chrono::steady_clock::now(), [ran, tracker] { ++*ran; });
    EXPECT_EQ(tracker.use_count(), 3);
  }
  EXPECT_EQ(*ran, 0);
  EXPECT_EQ(tracker.use_count(), 1);
}

}  // namespace
}  // namespace sas
