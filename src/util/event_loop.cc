#include "util/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace sas {
namespace {

int CheckedFd(int fd, const char* what) {
  if (fd < 0) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
  }
  return fd;
}

uint64_t EventData(int fd, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

EventLoop::EventLoop()
    : epoll_fd_(CheckedFd(epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      wake_fd_(CheckedFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd")),
      now_(std::chrono::steady_clock::now()) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = EventData(wake_fd_, 0);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
    int saved = errno;
    close(wake_fd_);
    close(epoll_fd_);
    throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(saved));
  }
}

EventLoop::~EventLoop() {
  // Callbacks destroyed here may own objects that Unwatch or Cancel on this
  // loop: take them out of the members first.
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard lock(mutex_);
    posted.swap(posted_);
  }
  posted.clear();
  auto timers = std::move(timers_);
  timers.clear();
  auto watched = std::move(watched_);
  watched.clear();
  unwatched_.clear();
  close(wake_fd_);
  close(epoll_fd_);
}

bool EventLoop::Watch(int fd, uint32_t events, FdCallback callback) {
  uint32_t generation = next_generation_++;
  if (next_generation_ == 0) next_generation_ = 1;  // 0 is the wake fd's
  epoll_event event{};
  event.events = events;
  event.data.u64 = EventData(fd, generation);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return false;
  watched_[fd] = Watched{generation, std::move(callback)};
  return true;
}

bool EventLoop::Modify(int fd, uint32_t events) {
  auto it = watched_.find(fd);
  if (it == watched_.end()) {
    errno = ENOENT;
    return false;
  }
  epoll_event event{};
  event.events = events;
  event.data.u64 = EventData(fd, it->second.generation);
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0;
}

void EventLoop::Unwatch(int fd) {
  auto it = watched_.find(fd);
  if (it == watched_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  // The callback may be the one running: it is destroyed after the round.
  // A node keeps its element where it is, so the running one stays valid.
  unwatched_.push_back(watched_.extract(it));
}

EventLoop::TimerId EventLoop::RunAt(SteadyTime when,
                                    std::function<void()> callback) {
  TimerId id = next_timer_++;
  timers_.emplace(std::make_pair(when, id), std::move(callback));
  timer_times_.emplace(id, when);
  return id;
}

void EventLoop::Cancel(TimerId id) {
  auto it = timer_times_.find(id);
  if (it == timer_times_.end()) return;
  timers_.erase({it->second, id});
  timer_times_.erase(it);
}

void EventLoop::Post(std::function<void()> callback) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(callback));
    wake = !wake_pending_ && loop_thread_ != std::this_thread::get_id();
    if (wake) wake_pending_ = true;
  }
  if (wake) Wake();
}

void EventLoop::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  Wake();
}

bool EventLoop::InLoopThread() const {
  std::lock_guard lock(mutex_);
  return loop_thread_ == std::this_thread::get_id();
}

void EventLoop::Wake() {
  uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

int EventLoop::NextTimeoutMillis() const {
  if (timers_.empty()) return -1;
  auto wait = timers_.begin()->first.first - std::chrono::steady_clock::now();
  if (wait <= std::chrono::steady_clock::duration::zero()) return 0;
  // Rounded up, so a timer never fires early; capped so the int holds it.
  auto millis = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return static_cast<int>(std::min<int64_t>(millis, 3'600'000));
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard lock(mutex_);
    posted.swap(posted_);
  }
  for (auto& callback : posted) callback();
}

void EventLoop::RunDueTimers() {
  // Timers set by these callbacks for times already past run in the next
  // round, after I/O, so a zero-delay timer cannot starve the descriptors.
  // Each due timer is looked up again before it runs: an earlier callback
  // of this round may have cancelled it.
  const SteadyTime now = now_;
  due_timers_.clear();
  for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= now;
       ++it) {
    due_timers_.push_back(it->first);
  }
  for (const auto& key : due_timers_) {
    auto node = timers_.extract(key);
    if (node.empty()) continue;
    timer_times_.erase(key.second);
    node.mapped()();
  }
}

void EventLoop::Run() {
  {
    std::lock_guard lock(mutex_);
    loop_thread_ = std::this_thread::get_id();
  }
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  while (true) {
    bool has_posted;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      has_posted = !posted_.empty();
    }
    int timeout = has_posted ? 0 : NextTimeoutMillis();
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("epoll_wait: ") +
                               std::strerror(errno));
    }
    now_ = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
      auto generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
      if (generation == 0) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
        std::lock_guard lock(mutex_);
        wake_pending_ = false;
        continue;
      }
      auto it = watched_.find(fd);
      // Unwatched (and maybe watched again) by an earlier callback.
      if (it == watched_.end() || it->second.generation != generation) {
        continue;
      }
      it->second.callback(events[i].events);
    }
    RunDueTimers();
    RunPosted();
    unwatched_.clear();
  }
  std::lock_guard lock(mutex_);
  loop_thread_ = std::thread::id();
  stopping_ = false;
}

}  // namespace sas
