#include "poll/state_file.h"

#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/file_system.h"

namespace sas::poll {
namespace {

using json = nlohmann::json;

constexpr int kFormatVersion = 1;

double Seconds(WallTime t) { return ToUnixSeconds(t); }

WallTime FromSeconds(double seconds) {
  return WallTime(
      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

bool ReadTask(const json& object, TaskKey* key, RememberedTask* task,
              std::string* why) {
  try {
    key->account = object.at("account").get<std::string>();
    key->export_id = object.at("export_id").get<int64_t>();
    if (object.contains("rd_account_id") &&
        !object["rd_account_id"].is_null()) {
      key->rd_account_id = object["rd_account_id"].get<int64_t>();
    }
    task->first_seen = FromSeconds(object.at("first_seen").get<double>());
    task->last_progress = FromSeconds(object.at("last_progress").get<double>());
    if (object.contains("completed_at") && !object["completed_at"].is_null()) {
      task->completed_at = FromSeconds(object["completed_at"].get<double>());
    }
    if (object.contains("progress") && !object["progress"].is_null()) {
      task->progress = object["progress"].get<int32_t>();
      task->current_count = object.at("current_count").get<int32_t>();
    }
  } catch (const json::exception& e) {
    *why = e.what();
    return false;
  }
  return true;
}

}  // namespace

bool LoadStateFile(const std::string& path, RememberedTasks* out,
                   std::string* error) {
  FileReadResult read = LocalFileSystem().ReadFile(path);
  if (!read.ok && read.error == "No such file or directory") return true;
  std::string why;
  if (read.ok) {
    json document = json::parse(read.content, nullptr, false);
    if (document.is_discarded() || !document.is_object() ||
        !document.contains("tasks") || !document["tasks"].is_array()) {
      why = "not a state file (expected {\"version\": 1, \"tasks\": [...]})";
    } else if (document.value("version", 0) != kFormatVersion) {
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
  std::string aside = SetAside(path, &aside_error);
  *error = path + ": " + why +
           (aside.empty() ? "; " + aside_error : "; set aside as " + aside);
  return false;
}

bool SaveStateFile(const std::string& path,
                   const std::vector<TaskSnapshot>& tasks, std::string* error) {
  json list = json::array();
  for (const TaskSnapshot& task : tasks) {
    const TaskKey& key = task.definition.key;
    json object = {{"account", key.account},
                   {"export_id", key.export_id},
                   {"first_seen", Seconds(task.first_seen)},
                   {"last_progress", Seconds(task.last_progress)}};
    if (key.rd_account_id) object["rd_account_id"] = *key.rd_account_id;
    if (task.completed_at) object["completed_at"] = Seconds(*task.completed_at);
    if (task.has_data) {
      object["progress"] = task.progress;
      object["current_count"] = task.current_count;
    }
    list.push_back(std::move(object));
  }
  json document = {{"version", kFormatVersion}, {"tasks", std::move(list)}};
  return WriteFileAtomically(path, document.dump() + "\n", error);
}

}  // namespace sas::poll
