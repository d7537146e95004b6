#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

namespace sas {

// Runs an expensive function (rendering a /metrics page) once for callers
// that arrive together, without ever handing a caller a result older than
// its call: Get returns the result of a run that began after Get was
// called. A call that arrives while a run is under way waits for that run
// to end, then shares the next run with every other call that arrived
// meanwhile. So one run is under way at a time, N simultaneous callers cost
// at most two runs, and a result reflects everything that had happened when
// its caller arrived. Thread-safe.
template <typename T>
class SharedRun {
 public:
  explicit SharedRun(std::function<T()> run) : run_(std::move(run)) {}

  // Rethrows what the run threw; the callers that shared it get the same
  // exception, and the next call starts a new run. No result is kept once
  // its callers have it.
  std::shared_ptr<const T> Get() {
    std::unique_lock lock(mutex_);
    std::shared_ptr<Flight> flight;
    if (!running_) {
      flight = running_ = std::make_shared<Flight>();
    } else {
      if (!next_) next_ = std::make_shared<Flight>();
      flight = next_;
      ++waiting_;
      changed_.wait(lock, [&] { return flight->done || !running_; });
      --waiting_;
      if (!flight->done) {
        // The first of the callers sharing `flight` to wake runs it.
        running_ = flight;
        next_.reset();
      }
    }
    if (!flight->done) {
      lock.unlock();
      std::shared_ptr<const T> result;
      std::exception_ptr error;
      try {
        result = std::make_shared<const T>(run_());
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      flight->result = std::move(result);
      flight->error = error;
      flight->done = true;
      ++runs_;
      running_.reset();
      changed_.notify_all();
    }
    if (flight->error) std::rethrow_exception(flight->error);
    return flight->result;
  }

  // Calls waiting for a run to end, for tests and diagnostics.
  size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_;
  }
  // Runs finished so far.
  uint64_t runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
  }

 private:
  // One run and the callers that share it.
  struct Flight {
    bool done = false;
    std::shared_ptr<const T> result;
    std::exception_ptr error;
  };

  const std::function<T()> run_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  // Guarded by mutex_.
  std::shared_ptr<Flight> running_;  // the run under way, if any
  std::shared_ptr<Flight> next_;     // the run the callers arriving now share
  size_t waiting_ = 0;
  uint64_t runs_ = 0;
};

}  // namespace sas
