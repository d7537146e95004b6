#pragma once

#include <string>
#include <vector>

#include "poll/task.h"

namespace sas::metrics {

// Appends the per-task families for a snapshot, in the text format. A pure
// function: the same snapshot always renders the same text.
//   aliyun_sas_export_progress_ratio, _current_entries, _total_entries,
//   _status{status} (all four states), _last_success_timestamp_seconds:
//     tasks with at least one successful poll;
//   aliyun_sas_export_up, aliyun_sas_export_info{task, file_name}: tasks
//     polled at least once;
//   aliyun_sas_export_first_seen_timestamp_seconds,
//   aliyun_sas_export_last_progress_timestamp_seconds: every tracked task;
//   aliyun_sas_export_completed_timestamp_seconds: completed tasks;
//   aliyun_sas_exporter_tasks: every tracked task.
// Every task series carries account, export_id and rd_account_id ("" when
// unset).
void AppendTaskMetrics(const std::vector<poll::TaskSnapshot>& tasks,
                       std::string& out);

}  // namespace sas::metrics
