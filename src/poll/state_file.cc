#include "poll/state_file.h"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/file_system.h"

namespace sas::poll {
namespace {

using json = nlohmann::json;

constexpr int kFormatVersion = 1;

double Seconds(WallTime t) { return ToUnixSeconds(t); }

// Readers of one field of a task object: false with *why naming the field
// and what would be valid. None throws.

bool ReadString(const json& object, const char* field, std::string* out,
                std::string* why) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) {
    *why = std::string("\"") + field + "\" must be a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool ReadInteger(const json& value, const char* field, int64_t min, int64_t max,
                 int64_t* out, std::string* why) {
  bool in_range = false;
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    in_range =
        v <= static_cast<uint64_t>(max) && static_cast<int64_t>(v) >= min;
    if (in_range) *out = static_cast<int64_t>(v);
  } else if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    in_range = v >= min && v <= max;
    if (in_range) *out = v;
  }
  if (!in_range) {
    *why = std::string("\"") + field + "\" must be an integer in " +
           std::to_string(min) + ".." + std::to_string(max);
  }
  return in_range;
}

bool ReadTime(const json& value, const char* field, WallTime* out,
              std::string* why) {
  std::optional<WallTime> t;
  if (value.is_number()) t = WallTimeFromUnixSeconds(value.get<double>());
  if (!t) {
    *why = std::string("\"") + field + "\" must be Unix seconds within " +
           std::string(kWallTimeRangeText);
    return false;
  }
  *out = *t;
  return true;
}

bool ReadTask(const json& object, TaskKey* key, RememberedTask* task,
              std::string* why) {
  constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  if (!object.is_object()) {
    *why = "expected an object";
    return false;
  }
  auto field = [&](const char* name) -> const json& {
    static const json kNull;
    auto it = object.find(name);
    return it == object.end() ? kNull : *it;
  };
  int64_t number = 0;
  if (!ReadString(object, "account", &key->account, why) ||
      !ReadInteger(field("export_id"), "export_id", 1, kInt64Max, &number,
                   why)) {
    return false;
  }
  key->export_id = number;
  // Files written before actions existed have none: DescribeExportInfo.
  if (!field("action").is_null()) {
    std::optional<aliyun::ExportAction> action;
    if (field("action").is_string()) {
      action = aliyun::ParseExportAction(field("action").get<std::string>());
    }
    if (!action) {
      *why = "\"action\" must be one of " + aliyun::ExportActionNames();
      return false;
    }
    key->action = *action;
  }
  if (!field("rd_account_id").is_null()) {
    if (!ReadInteger(field("rd_account_id"), "rd_account_id", 1, kInt64Max,
                     &number, why)) {
      return false;
    }
    key->rd_account_id = number;
  }
  if (!ReadTime(field("first_seen"), "first_seen", &task->first_seen, why) ||
      !ReadTime(field("last_progress"), "last_progress", &task->last_progress,
                why)) {
    return false;
  }
  if (!field("completed_at").is_null()) {
    WallTime completed;
    if (!ReadTime(field("completed_at"), "completed_at", &completed, why)) {
      return false;
    }
    task->completed_at = completed;
  }
  // "progress" (a number, or null when the answer had none) marks a task
  // that was polled successfully; "current_count" may then be absent.
  if (object.contains("progress")) {
    task->progress_known = true;
    if (!field("progress").is_null()) {
      if (!ReadInteger(field("progress"), "progress", kInt64Min, kInt64Max,
                       &number, why)) {
        return false;
      }
      task->progress = number;
    }
    if (!field("current_count").is_null()) {
      if (!ReadInteger(field("current_count"), "current_count", kInt64Min,
                       kInt64Max, &number, why)) {
        return false;
      }
      task->current_count = number;
    }
  }
  return true;
}

}  // namespace

bool LoadStateFile(FileSystem& fs, const std::string& path,
                   RememberedTasks* out, std::string* error) {
  FileReadResult read = fs.ReadFile(path);
  if (read.kind == FileError::kNotFound) return true;
  std::string why;
  if (read.ok) {
    json document = json::parse(read.content, nullptr, false);
    if (document.is_discarded() || !document.is_object() ||
        !document.contains("tasks") || !document["tasks"].is_array()) {
      why = "not a state file (expected {\"version\": 1, \"tasks\": [...]})";
    } else if (document.value("version", json()) != kFormatVersion) {
      why = "unknown state file version";
    } else {
      RememberedTasks tasks;
      size_t index = 0;
      for (const json& object : document["tasks"]) {
        TaskKey key;
        RememberedTask task;
        if (!ReadTask(object, &key, &task, &why)) {
          why = "task " + std::to_string(index + 1) + ": " + why;
          break;
        }
        tasks[key] = task;
        ++index;
      }
      if (why.empty()) {
        *out = std::move(tasks);
        return true;
      }
    }
  } else {
    why = "cannot read: " + read.error;
  }
  std::string aside_error;
  std::string aside = SetAside(fs, path, &aside_error);
  *error = path + ": " + why +
           (aside.empty() ? "; " + aside_error : "; set aside as " + aside);
  return false;
}

bool SaveStateFile(FileSystem& fs, const std::string& path,
                   const std::vector<TaskSnapshot>& tasks, std::string* error) {
  json list = json::array();
  for (const TaskSnapshot& task : tasks) {
    const TaskKey& key = task.definition.key;
    json object = {{"account", key.account},
                   {"export_id", key.export_id},
                   {"first_seen", Seconds(task.first_seen)},
                   {"last_progress", Seconds(task.last_progress)}};
    if (key.rd_account_id) object["rd_account_id"] = *key.rd_account_id;
    if (key.action != aliyun::kDefaultExportAction) {
      object["action"] = aliyun::ExportActionName(key.action);
    }
    if (task.completed_at) object["completed_at"] = Seconds(*task.completed_at);
    if (task.has_data) {
      object["progress"] = task.progress ? json(*task.progress) : json(nullptr);
      object["current_count"] =
          task.current_count ? json(*task.current_count) : json(nullptr);
    }
    list.push_back(std::move(object));
  }
  json document = {{"version", kFormatVersion}, {"tasks", std::move(list)}};
  return WriteFileAtomically(fs, path, document.dump() + "\n", error);
}

}  // namespace sas::poll
