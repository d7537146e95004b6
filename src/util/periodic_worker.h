#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "util/duration.h"

namespace sas {

// Runs `work` every `period` on its own thread until destroyed or Stop()ped,
// as spdlog's periodic_worker does. The period is measured from the end of
// one run to the start of the next. Stop() wakes the thread at once, lets a
// run under way finish, and joins. Thread-safe.
class PeriodicWorker {
 public:
  PeriodicWorker(Millis period, std::function<void()> work);
  ~PeriodicWorker();
  PeriodicWorker(const PeriodicWorker&) = delete;
  PeriodicWorker& operator=(const PeriodicWorker&) = delete;

  void Stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sas
