// discovery::ParseTaskObject (a task API request body). Input: the body. An
// object that parses and has no member-account problem must survive the
// task API's storage (TaskEntriesToJson, ParseTaskFile).

#include <chrono>
#include <string>
#include <vector>

#include "discovery/task_entry.h"
#include "fuzz_support.h"
#include "util/strings.h"

SAS_FUZZ_TARGET(task_object) {
  std::string_view text = sas::fuzz::AsText(data, size);
  sas::discovery::TaskEntry entry;
  std::string error;
  if (!sas::discovery::ParseTaskObject(text, &entry, &error)) {
    SAS_FUZZ_CHECK(!error.empty(), "a failure without a reason");
    return;
  }
  SAS_FUZZ_CHECK(!entry.account.empty() &&
                     sas::UnprintableTextProblem(entry.account).empty(),
                 "an account empty or not printable");
  SAS_FUZZ_CHECK(entry.export_id > 0, "a non-positive export_id");
  if (!sas::discovery::MemberAccountProblem(entry).empty()) return;
  std::string stored = sas::discovery::TaskEntriesToJson({entry});
  std::vector<sas::discovery::TaskEntry> again;
  SAS_FUZZ_CHECK(
      sas::discovery::ParseTaskFile(stored, "stored.json", &again, &error),
      "the stored form does not parse");
  SAS_FUZZ_CHECK(again.size() == 1 && again[0].Key() == entry.Key() &&
                     again[0].name == entry.name,
                 "the stored form reads differently");
  auto seconds = [](const std::optional<sas::WallTime>& t) {
    return t ? std::optional(std::chrono::floor<std::chrono::seconds>(*t))
             : std::nullopt;
  };
  SAS_FUZZ_CHECK(seconds(again[0].created_at) == seconds(entry.created_at),
                 "created_at changed in storage");
}
