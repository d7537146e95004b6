#include "util/periodic_worker.h"

namespace sas {

PeriodicWorker::PeriodicWorker(Millis period, std::function<void()> work) {
  thread_ = std::thread([this, period, work = std::move(work)] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
      lock.unlock();
      work();
      lock.lock();
    }
  });
}

PeriodicWorker::~PeriodicWorker() { Stop(); }

void PeriodicWorker::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sas
