// discovery::ParseTaskFile. Input: the file. A file that parses is written
// out with TaskEntriesToJson (as the task API stores its tasks) and must
// read back the same; a file that does not leaves the output untouched.

#include <chrono>
#include <string>
#include <vector>

#include "discovery/task_entry.h"
#include "fuzz_support.h"
#include "util/strings.h"

namespace {

using sas::discovery::TaskEntry;

// Entries equal as stored: created_at is written in whole seconds.
bool SameAsStored(const TaskEntry& read, const TaskEntry& stored) {
  auto seconds = [](const std::optional<sas::WallTime>& t) {
    return t ? std::optional(std::chrono::floor<std::chrono::seconds>(*t))
             : std::nullopt;
  };
  return read.Key() == stored.Key() && read.name == stored.name &&
         seconds(read.created_at) == seconds(stored.created_at);
}

}  // namespace

SAS_FUZZ_TARGET(task_file) {
  std::string_view text = sas::fuzz::AsText(data, size);
  const TaskEntry sentinel{"untouched", 1};
  std::vector<TaskEntry> entries = {sentinel};
  std::string error;
  if (!sas::discovery::ParseTaskFile(text, "tasks.json", &entries, &error)) {
    SAS_FUZZ_CHECK(entries.size() == 1 && entries[0].account == "untouched",
                   "a failed parse changed the output");
    SAS_FUZZ_CHECK(error.starts_with("tasks.json:"),
                   "an error that does not name the file");
    return;
  }
  for (const TaskEntry& entry : entries) {
    SAS_FUZZ_CHECK(!entry.account.empty() &&
                       sas::UnprintableTextProblem(entry.account).empty(),
                   "an account empty or not printable");
    SAS_FUZZ_CHECK(
        entry.export_id > 0 &&
            entry.export_id <= sas::aliyun::MaxExportId(entry.action),
        "an export_id outside the action's range");
    SAS_FUZZ_CHECK(!entry.rd_account_id || *entry.rd_account_id > 0,
                   "a non-positive rd_account_id");
    SAS_FUZZ_CHECK(sas::discovery::MemberAccountProblem(entry).empty(),
                   "rd_account_id on an action without it");
    SAS_FUZZ_CHECK(entry.name.size() <= 256 &&
                       sas::UnprintableTextProblem(entry.name).empty(),
                   "a name too long or not printable");
  }
  std::string stored = sas::discovery::TaskEntriesToJson(entries);
  std::vector<TaskEntry> again;
  SAS_FUZZ_CHECK(
      sas::discovery::ParseTaskFile(stored, "stored.json", &again, &error),
      "the stored form does not parse");
  SAS_FUZZ_CHECK(again.size() == entries.size(),
                 "the stored form has other tasks");
  for (size_t i = 0; i < again.size(); ++i) {
    SAS_FUZZ_CHECK(SameAsStored(entries[i], again[i]),
                   "the stored form reads differently");
  }
}
