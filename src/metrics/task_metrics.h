#pragma once

#include <span>
#include <string>
#include <vector>

#include "poll/task.h"

namespace sas::metrics {

// The per-task families, in the order the page shows them.
//   kProgressRatio, kCurrentEntries, kTotalEntries, kStatus (all six states),
//   kLastSuccess: tasks with at least one successful poll (the first three
//     only when that answer carried the field);
//   kInfo{task, file_name}, kUp: tasks polled at least once;
//   kFirstSeen, kLastProgress: every tracked task;
//   kCompleted: completed tasks.
// Every series carries account, action, export_id and rd_account_id (""
// when unset).
enum class TaskFamily {
  kProgressRatio,
  kCurrentEntries,
  kTotalEntries,
  kStatus,
  kInfo,
  kUp,
  kLastSuccess,
  kFirstSeen,
  kLastProgress,
  kCompleted,
};
inline constexpr int kTaskFamilyCount = 10;

// "# HELP ...\n# TYPE ... gauge\n" of a family.
void AppendTaskFamilyHeader(TaskFamily family, std::string& out);
// The family's series for `tasks`, in their order; nothing for a task the
// family leaves out.
void AppendTaskFamilySeries(TaskFamily family,
                            std::span<const poll::TaskSnapshot> tasks,
                            std::string& out);
// Whether the family's series change with TaskSnapshot::last_success (see
// TaskSnapshot::success_revision); every family changes with `revision`.
bool ReadsLastSuccess(TaskFamily family);
// aliyun_sas_exporter_tasks, header and sample.
void AppendTaskCount(size_t tasks, std::string& out);

// Appends every task family for a snapshot, then the task count, in the
// text format. A pure function: the same snapshot always renders the same
// text.
void AppendTaskMetrics(const std::vector<poll::TaskSnapshot>& tasks,
                       std::string& out);

}  // namespace sas::metrics
