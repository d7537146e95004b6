#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aliyun/export_action.h"
#include "util/clock.h"

namespace sas::poll {

// A tracked task's number in its TaskStore: never reused, so a task removed
// and added again gets a new one.
using TaskId = uint64_t;

// A task's identity: the same (account, rd_account_id, action, export_id)
// from two sources is one task. The action is part of it because each
// progress API numbers its exports in its own space.
struct TaskKey {
  std::string account;
  int64_t export_id = 0;
  std::optional<int64_t> rd_account_id;
  aliyun::ExportAction action = aliyun::kDefaultExportAction;

  auto operator<=>(const TaskKey&) const = default;
  bool operator==(const TaskKey&) const = default;
  // For logs: "prod/131231" or "prod/16670360956/131231" for
  // DescribeExportInfo, the action before the id for the others:
  // "prod/DescribeVulExportInfo/131231".
  std::string ToString() const;
};

struct TaskDefinition {
  TaskKey key;
  // The `task` label: the configured name, default the export id.
  std::string name;
};

// The status of an export as a bounded state set, the same for every action:
// each action's documented values mapped onto pending, init, exporting,
// success and failed, and "unknown" for any other value. success and failed
// are final: the task is finished.
enum class ExportState {
  kPending = 0,
  kInit,
  kExporting,
  kSuccess,
  kFailed,
  kUnknown
};
inline constexpr int kExportStateCount = 6;
// The documented values, as the official Go SDK alibabacloud-go/sas-20181203
// comments them: DescribeExportInfo, DescribeVulExportInfo and
// DescribeWarningExportInfo ExportStatus init/exporting/success;
// DescribeHcExportInfo ResultStatus exporting/success;
// DescribeSuspEventExportInfo ExportStatus pending/exporting/success/failed;
// DescribeReportExport ExportStatus -1 (failed), 0 (init), 1 (exporting),
// 2 (success); DescribeBackUpExportInfo Data[].Status init/exporting/success.
// Matching is exact.
ExportState ClassifyExportStatus(aliyun::ExportAction action,
                                 std::string_view status);
std::string_view ExportStateName(ExportState state);
bool IsFinal(ExportState state);

// Everything known about one task at one moment: the unit of a snapshot.
struct TaskSnapshot {
  TaskDefinition definition;
  // At least one poll has finished (successfully or not).
  bool polled = false;
  // The latest poll succeeded.
  bool up = false;
  // At least one poll has succeeded: the export fields below are as the
  // latest successful poll gave them, each nullopt when that answer did not
  // carry it (its series is then left out).
  bool has_data = false;
  std::optional<int64_t> progress;  // percent, as given (may exceed 100)
  std::optional<int64_t> current_count;
  std::optional<int64_t> total_count;
  std::optional<ExportState> state;
  std::optional<std::string> status;  // the status as the API said it
  std::optional<std::string> file_name;
  WallTime last_success{};
  WallTime last_poll{};
  // The error code and sanitised message of the latest failed poll; empty
  // after a success.
  std::string last_error_code;
  std::string last_error_message;
  // When the exporter first learned of the task (the task's created_at when
  // given).
  WallTime first_seen{};
  // The last time Progress or CurrentCount changed (first_seen until the
  // first successful poll).
  WallTime last_progress{};
  // When a final status (success or failed) was first seen.
  std::optional<WallTime> completed_at;

  // For caches of what is rendered from snapshots: the task's id, and the
  // store's change counter at the latest change of the fields above.
  // `progress_revision` moves when progress, current_count or last_progress
  // change, `success_revision` when last_success does, and `revision` when
  // any other field but last_poll does. The counter only grows and is
  // shared by every task of a store, so a task whose revisions are what they
  // were has not changed since.
  TaskId id = 0;
  uint64_t revision = 0;
  uint64_t progress_revision = 0;
  uint64_t success_revision = 0;
};

}  // namespace sas::poll
