#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "util/clock.h"

namespace sas {

// One thread's I/O readiness and timers, on epoll: the poller's requests
// all run on one loop, so a poll costs no hand-off between threads.
//
// Run() dispatches on the thread that calls it (the loop thread). Watch,
// Modify, Unwatch, RunAt and Cancel must be called on the loop thread, or
// while no thread is in Run(). Post, Stop and InLoopThread may be called
// from any thread. Callbacks run on the loop thread, one at a time, and may
// call any method (a callback may unwatch its own descriptor or cancel
// timers). Timers use the real steady clock.
class EventLoop {
 public:
  using TimerId = uint64_t;
  // `events`: the EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP bits epoll reported.
  using FdCallback = std::function<void(uint32_t events)>;

  EventLoop();
  // Destroys pending timers and posted callbacks without running them.
  // Must not be called while Run() is under way.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Reports `fd`'s readiness for `events` (EPOLLIN and/or EPOLLOUT;
  // errors and hang-ups are always reported) to `callback` until Unwatch.
  // The caller keeps owning fd and must Unwatch it before closing it.
  // Returns false (errno set) when epoll refuses the descriptor.
  bool Watch(int fd, uint32_t events, FdCallback callback);
  // Changes the events reported for a watched fd.
  bool Modify(int fd, uint32_t events);
  // Stops reporting fd; an event already collected for it is dropped.
  void Unwatch(int fd);

  // Runs `callback` once, at `when` or as soon after as the loop gets to it.
  TimerId RunAt(SteadyTime when, std::function<void()> callback);
  // Forgets a timer that has not fired; nothing for a fired or unknown id.
  void Cancel(TimerId id);

  // Runs `callback` on the loop thread soon, in the order posted. From the
  // loop thread it runs after the current callback returns.
  void Post(std::function<void()> callback);

  // Dispatches until Stop(). Returns at once when Stop() came first.
  void Run();
  // Makes Run() return at the end of the current dispatch round: the
  // descriptors, due timers and posted callbacks that round collected still
  // run; nothing after it.
  void Stop();
  // True on the thread inside Run().
  bool InLoopThread() const;

  // The steady clock as the loop saw it when the current dispatch round
  // began (one reading per wake-up).
  SteadyTime Now() const { return now_; }

 private:
  struct Watched {
    uint32_t generation;
    FdCallback callback;
  };

  void Wake();
  void RunPosted();
  void RunDueTimers();
  int NextTimeoutMillis() const;

  const int epoll_fd_;
  const int wake_fd_;
  SteadyTime now_;
  uint32_t next_generation_ = 1;
  std::unordered_map<int, Watched> watched_;
  // Unwatched during the current round; destroyed at its end.
  std::vector<std::unordered_map<int, Watched>::node_type> unwatched_;
  TimerId next_timer_ = 1;
  // Ordered by (when, id): equal times fire in the order they were set.
  std::map<std::pair<SteadyTime, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, SteadyTime> timer_times_;
  // RunDueTimers' list of the round's due timers, kept for its capacity.
  std::vector<std::pair<SteadyTime, TimerId>> due_timers_;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::vector<std::function<void()>> posted_;
  bool stopping_ = false;
  bool wake_pending_ = false;
  std::thread::id loop_thread_;
};

}  // namespace sas
