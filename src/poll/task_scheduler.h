#pragma once

#include <vector>

#include "poll/task_store.h"
#include "util/clock.h"

namespace sas::poll {

// What task sources need of the poller: "poll this task". Thread-safe.
class TaskScheduler {
 public:
  virtual ~TaskScheduler() = default;
  // Queues the task to be polled at `first_due` (steady time).
  virtual void Schedule(TaskId id, SteadyTime first_due) = 0;
  // Queues tasks with first polls spread evenly over one interval from now.
  virtual void ScheduleSpread(const std::vector<TaskId>& ids) = 0;
};

}  // namespace sas::poll
