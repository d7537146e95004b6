#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "poll/task.h"
#include "util/file_system.h"

namespace sas::poll {

// What the exporter remembers of a task across restarts, so the clocks that
// alerts depend on (first seen, last progress, completion) do not reset.
struct RememberedTask {
  WallTime first_seen{};
  WallTime last_progress{};
  std::optional<WallTime> completed_at;
  // A poll had succeeded: progress and current_count are the Progress and
  // CurrentCount last_progress refers to (each nullopt when the answer did
  // not carry it).
  bool progress_known = false;
  std::optional<int64_t> progress;
  std::optional<int64_t> current_count;
};

using RememberedTasks = std::map<TaskKey, RememberedTask>;

// Reads the state file from `fs`. A missing file is an empty state. An
// unreadable or malformed file is never overwritten or deleted: it is set aside
// as
// "<path>.broken-<unix seconds>", false is returned and *error says what was
// wrong and where the file went.
bool LoadStateFile(FileSystem& fs, const std::string& path,
                   RememberedTasks* out, std::string* error);

// Writes every task's lifecycle to the state file in `fs` atomically.
bool SaveStateFile(FileSystem& fs, const std::string& path,
                   const std::vector<TaskSnapshot>& tasks, std::string* error);

}  // namespace sas::poll
