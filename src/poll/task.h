#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/clock.h"

namespace sas::poll {

// A task's identity: the same (account, rd_account_id, export_id) from two
// sources is one task.
struct TaskKey {
  std::string account;
  int64_t export_id = 0;
  std::optional<int64_t> rd_account_id;

  auto operator<=>(const TaskKey&) const = default;
  bool operator==(const TaskKey&) const = default;
  // "prod/131231" or "prod/16670360956/131231", for logs.
  std::string ToString() const;
};

struct TaskDefinition {
  TaskKey key;
  // The `task` label: the configured name, default the export id.
  std::string name;
};

// ExportStatus as a bounded state set: the documented values and "unknown"
// for anything else.
enum class ExportState { kInit = 0, kExporting, kSuccess, kUnknown };
inline constexpr int kExportStateCount = 4;
ExportState ClassifyExportStatus(std::string_view status);
std::string_view ExportStateName(ExportState state);

// Everything known about one task at one moment: the unit of a snapshot.
struct TaskSnapshot {
  TaskDefinition definition;
  // At least one poll has finished (successfully or not).
  bool polled = false;
  // The latest poll succeeded.
  bool up = false;
  // At least one poll has succeeded: the export fields below are set.
  bool has_data = false;
  int32_t progress = 0;  // percent
  int32_t current_count = 0;
  int32_t total_count = 0;
  ExportState state = ExportState::kUnknown;
  std::string status;  // ExportStatus as the API said it
  std::string file_name;
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
  // When `success` was first seen.
  std::optional<WallTime> completed_at;
};

}  // namespace sas::poll
