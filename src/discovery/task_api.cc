#include "discovery/task_api.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/file_system.h"
#include "util/log.h"

namespace sas::discovery {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSource = "api";
constexpr std::string_view kCollection = "/api/v1/tasks";

std::optional<int64_t> ParsePositive(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    return std::nullopt;
  }
  return value;
}

ApiResponse Error(int status, const std::string& message) {
  return {status, ErrorJson(message)};
}

json EntryJson(const TaskEntry& entry) {
  json object = {{"account", entry.account}, {"export_id", entry.export_id}};
  object["rd_account_id"] =
      entry.rd_account_id ? json(*entry.rd_account_id) : json(nullptr);
  object["name"] = entry.Definition().name;
  return object;
}

}  // namespace

std::string ErrorJson(const std::string& message) {
  return json{{"error", message}}.dump() + "\n";
}

TaskApi::TaskApi(TaskRegistry& registry, const poll::TaskStore& store,
                 std::string storage_dir)
    : registry_(registry),
      store_(store),
      storage_file_(std::move(storage_dir) + "/tasks.json") {}

bool TaskApi::Load(std::string* error) {
  std::lock_guard lock(mutex_);
  FileReadResult read = LocalFileSystem().ReadFile(storage_file_);
  if (!read.ok) {
    if (read.error == "No such file or directory") return true;  // first run
    *error = storage_file_ + ": cannot read: " + read.error;
    return false;
  }
  std::vector<TaskEntry> entries;
  if (!ParseTaskFile(read.content, storage_file_, &entries, error)) {
    std::string aside_error;
    std::string aside = SetAside(storage_file_, &aside_error);
    *error += aside.empty() ? "; and " + aside_error
                            : "; the file was set aside as " + aside;
    return false;
  }
  for (const TaskEntry& entry : entries) {
    if (registry_.Add(std::string(kSource), entry) ==
        TaskRegistry::AddResult::kUnknownAccount) {
      log::Warn(
          "Stored task names an account no longer configured; kept "
          "in storage, not polled",
          {{"task", entry.Key().ToString()}, {"file", storage_file_}});
    }
    registered_[entry.Key()] = entry;
  }
  return true;
}

bool TaskApi::Persist(std::string* error) {
  std::vector<TaskEntry> entries;
  for (const auto& [key, entry] : registered_) entries.push_back(entry);
  return WriteFileAtomically(storage_file_, TaskEntriesToJson(entries), error);
}

ApiResponse TaskApi::Handle(const ApiRequest& request) {
  if (request.path == kCollection || request.path == "/api/v1/tasks/") {
    if (request.method == "POST") return Create(request.body);
    if (request.method == "GET") return List();
    return Error(405, request.method + " is not allowed on " +
                          std::string(kCollection) + " (GET, POST)");
  }
  if (request.path.rfind(std::string(kCollection) + "/", 0) == 0) {
    if (request.method == "DELETE") return Delete(request.path, request.query);
    return Error(405, request.method + " is not allowed on a task (DELETE)");
  }
  return Error(404, "no such API path: " + request.path);
}

ApiResponse TaskApi::Create(const std::string& body) {
  TaskEntry entry;
  std::string why;
  if (!ParseTaskObject(body, &entry, &why)) return Error(400, why);
  std::lock_guard lock(mutex_);
  bool known = registered_.contains(entry.Key());
  TaskRegistry::AddResult result = registry_.Add(std::string(kSource), entry);
  switch (result) {
    case TaskRegistry::AddResult::kUnknownAccount:
      return Error(422,
                   "no account named \"" + entry.account + "\" is configured");
    case TaskRegistry::AddResult::kTooMany:
      return Error(429, "max_tasks reached: no more tasks can be tracked");
    default:
      break;
  }
  if (!known) {
    registered_[entry.Key()] = entry;
    std::string error;
    if (!Persist(&error)) {
      registered_.erase(entry.Key());
      if (result == TaskRegistry::AddResult::kCreated) {
        registry_.Remove(std::string(kSource), entry.Key());
      }
      log::Error("Cannot store a registered task", {{"err", error}});
      return Error(500, "the task could not be stored: " + error);
    }
  }
  json answer = EntryJson(entry);
  return {result == TaskRegistry::AddResult::kCreated ? 201 : 200,
          answer.dump() + "\n"};
}

ApiResponse TaskApi::List() const {
  json tasks = json::array();
  for (const poll::TaskSnapshot& task : store_.Snapshot()) {
    const poll::TaskKey& key = task.definition.key;
    json object = {
        {"account", key.account},
        {"export_id", key.export_id},
        {"rd_account_id",
         key.rd_account_id ? json(*key.rd_account_id) : json(nullptr)},
        {"name", task.definition.name},
        {"sources", registry_.SourcesOf(key)},
        {"polled", task.polled},
        {"up", task.up},
        {"first_seen", FormatIso8601(task.first_seen)},
        {"last_progress", FormatIso8601(task.last_progress)}};
    if (task.has_data) {
      object["status"] = task.status;
      object["progress"] = task.progress;
      object["current_count"] = task.current_count;
      object["total_count"] = task.total_count;
      object["file_name"] = task.file_name;
      object["last_success"] = FormatIso8601(task.last_success);
    }
    if (task.polled) object["last_poll"] = FormatIso8601(task.last_poll);
    if (!task.last_error_code.empty()) {
      object["last_error_code"] = task.last_error_code;
    }
    if (task.completed_at) {
      object["completed_at"] = FormatIso8601(*task.completed_at);
    }
    tasks.push_back(std::move(object));
  }
  return {200, json{{"tasks", tasks}}.dump() + "\n"};
}

ApiResponse TaskApi::Delete(const std::string& path,
                            const std::map<std::string, std::string>& query) {
  std::string rest = path.substr(kCollection.size() + 1);
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 ||
      rest.find('/', slash + 1) != std::string::npos) {
    return Error(404, "expected /api/v1/tasks/{account}/{export_id}");
  }
  poll::TaskKey key;
  key.account = rest.substr(0, slash);
  auto export_id = ParsePositive(rest.substr(slash + 1));
  if (!export_id) {
    return Error(400, "export_id in the path must be a positive integer");
  }
  key.export_id = *export_id;
  if (auto rd = query.find("rd_account_id"); rd != query.end()) {
    auto value = ParsePositive(rd->second);
    if (!value) return Error(400, "rd_account_id must be a positive integer");
    key.rd_account_id = *value;
  }
  std::lock_guard lock(mutex_);
  std::vector<std::string> others;
  switch (registry_.Remove(std::string(kSource), key, &others)) {
    case TaskRegistry::RemoveResult::kNotFound: {
      std::string message =
          "task " + key.ToString() + " was not registered through the API";
      if (!others.empty()) {
        message += "; it comes from " + others.front();
      }
      return Error(404, message);
    }
    case TaskRegistry::RemoveResult::kHeldElsewhere:
      return Error(409, "task " + key.ToString() + " is also defined by " +
                            others.front() + "; remove it there too");
    case TaskRegistry::RemoveResult::kRemoved:
      break;
  }
  TaskEntry removed = registered_[key];
  registered_.erase(key);
  std::string error;
  if (!Persist(&error)) {
    log::Error("Cannot store the task list after a removal", {{"err", error}});
    registered_[key] = removed;
    registry_.Add(std::string(kSource), removed);
    return Error(500, "the removal could not be stored: " + error);
  }
  return {204, ""};
}

}  // namespace sas::discovery
