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
// Which of a task's revisions (TaskSnapshot::revision, progress_revision,
// success_revision) follow the fields a family's series show: when none of
// them moved, the family's series for the task are as they were.
struct RevisionsRead {
  bool progress = false;
  bool success = false;  // `revision` is read by every family
};
RevisionsRead RevisionsOf(TaskFamily family);
// aliyun_sas_exporter_tasks, header and sample.
void AppendTaskCount(size_t tasks, std::string& out);

// Appends every task family for a snapshot, then the task count, in the
// text format. A pure function: the same snapshot always renders the same
// text.
void AppendTaskMetrics(const std::vector<poll::TaskSnapshot>& tasks,
                       std::string& out);

}  // namespace sas::metrics
