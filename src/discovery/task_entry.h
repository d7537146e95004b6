#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "poll/task.h"
#include "util/clock.h"

namespace sas::discovery {

// One task as task files and the task API write it:
//   {"account": "prod", "action": "DescribeVulExportInfo",
//    "export_id": 131231, "rd_account_id": 16670360956,
//    "name": "nightly assets", "created_at": "2026-11-27T10:00:00Z"}
// action, rd_account_id, name and created_at are optional; action defaults
// to DescribeExportInfo (so entries written before actions existed read
// unchanged); created_at may also be a number of Unix seconds.
struct TaskEntry {
  std::string account;
  int64_t export_id = 0;
  std::optional<int64_t> rd_account_id;
  std::string name;  // "" = the export id
  std::optional<WallTime> created_at;
  aliyun::ExportAction action = aliyun::kDefaultExportAction;

  poll::TaskKey Key() const {
    return {account, export_id, rd_account_id, action};
  }
  poll::TaskDefinition Definition() const;
};

// Parses a task file: a JSON array of task objects. False with *error
// "path:line:column: what is wrong" (the position of the offending element
// or value) on malformed JSON or a bad element, including rd_account_id on
// an action without the member-account parameter; nothing is half-read.
bool ParseTaskFile(std::string_view text, const std::string& path,
                   std::vector<TaskEntry>* out, std::string* error);

// Parses one task object (a task API request body). False with *error
// naming the field and what would be valid. It does not check
// MemberAccountProblem: the API answers that one with its own status.
bool ParseTaskObject(std::string_view text, TaskEntry* out, std::string* error);

// Why the entry cannot be polled as written: rd_account_id set on an action
// without the member-account parameter. "" when it can.
std::string MemberAccountProblem(const TaskEntry& entry);

// JSON for a list of entries (the file format), for the API's storage.
std::string TaskEntriesToJson(const std::vector<TaskEntry>& entries);

}  // namespace sas::discovery
