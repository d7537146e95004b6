#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "discovery/task_registry.h"
#include "poll/task_store.h"

namespace sas::discovery {

struct ApiRequest {
  std::string method;  // GET, POST, DELETE
  std::string path;    // "/api/v1/tasks" or "/api/v1/tasks/<account>/<id>"
  std::map<std::string, std::string> query;
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON; {"error": "..."} for 4xx/5xx
};

// The task API (off unless --web.enable-task-api):
//   POST /api/v1/tasks            one task object; 201 created, 200 exists
//   GET /api/v1/tasks             every tracked task with its latest state
//   DELETE /api/v1/tasks/{account}/{export_id}[?rd_account_id=N]   204
// Tasks registered here are written to <storage_dir>/tasks.json, atomically,
// before the request is answered, and registered again at start. Errors:
// 400 malformed JSON or wrong types, 404 unknown task, 409 a task other
// sources also define, 422 unknown account, 429 max_tasks reached, 500 the
// storage cannot be written (the change is undone). Thread-safe.
class TaskApi {
 public:
  TaskApi(TaskRegistry& registry, const poll::TaskStore& store,
          std::string storage_dir);

  // Registers the stored tasks. An unreadable or corrupt tasks.json is set
  // aside under a new name (never deleted) and false returned with *error;
  // the exporter starts without those tasks.
  bool Load(std::string* error);

  ApiResponse Handle(const ApiRequest& request);

  std::string storage_file() const { return storage_file_; }

 private:
  ApiResponse Create(const std::string& body);
  ApiResponse List() const;
  ApiResponse Delete(const std::string& path,
                     const std::map<std::string, std::string>& query);
  // Requires mutex_ held. False with *error when the file cannot be written.
  bool Persist(std::string* error);

  TaskRegistry& registry_;
  const poll::TaskStore& store_;
  const std::string storage_file_;
  std::mutex mutex_;
  // Guarded by mutex_: tasks registered through the API, by key.
  std::map<poll::TaskKey, TaskEntry> registered_;
};

// {"error": message} as a JSON document.
std::string ErrorJson(const std::string& message);

}  // namespace sas::discovery
