#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "discovery/task_journal.h"
#include "discovery/task_registry.h"
#include "poll/task_store.h"
#include "util/file_system.h"

namespace sas::discovery {

struct ApiRequest {
  std::string method;  // GET, POST, DELETE
  // The raw request path, still percent-encoded, without the query:
  // "/api/v1/tasks" or "/api/v1/tasks/<account>/<id>". TaskApi splits it on
  // '/' and then decodes each segment, so "%2F" never separates segments.
  std::string path;
  std::map<std::string, std::string> query;  // values already decoded
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON; {"error": "..."} for 4xx/5xx
};

struct TaskApiOptions {
  // The journal is compacted into tasks.json once it is larger than both
  // this and the tasks.json last written, which keeps the work per change
  // constant and the journal at most about the size of the snapshot.
  size_t min_compaction_bytes = 1 << 20;
  // Compact on a thread of the TaskApi's own; false leaves compaction to
  // CompactOnce() (tests).
  bool background_compaction = true;
  JournalOptions journal;
};

// The task API (off unless --web.enable-task-api):
//   POST /api/v1/tasks            one task object; 201 created, 200 exists
//   GET /api/v1/tasks             every task this replica tracks with its
//                                 action and latest state, and the
//                                 replica's "shard" and "total_shards"
//   DELETE /api/v1/tasks/{account}/{export_id}[?rd_account_id=N]
//          [&action=DescribeVulExportInfo]   204; action defaults to
//                                 DescribeExportInfo
// With sharding (see poll::Sharding) a replica takes only the tasks its
// shard owns: POST, and DELETE of a task not stored here, of another
// shard's task answer 421 {"error": ..., "shard": owner} and change nothing.
// DELETE also removes a task stored here but not polled (its account is no
// longer configured, or it belongs to another shard).
// Errors: 400 malformed JSON, wrong types, an unknown action, a path segment
// that is not valid percent-encoded UTF-8 or an account with control
// characters; 404 unknown task or path; 409 a task other sources also
// define; 422 unknown account, or rd_account_id on an action without the
// member-account parameter; 421 another shard's task;
// 429 max_tasks reached; 500 the storage cannot be written (the change is
// undone). Every answer is JSON built by the JSON library; Handle never
// throws.
//
// Storage, in the storage directory:
//   tasks.json         the snapshot: a task file (a JSON array of tasks)
//   tasks.journal      changes since the snapshot, one JournalRecord a line
//   tasks.journal.old  the previous journal, while a compaction runs
// A 2xx answer to a change is sent only once its journal line is flushed to
// disk; concurrent changes share one flush (group commit). At start the
// snapshot is read, then tasks.journal.old and tasks.journal replayed.
// Compaction renames the journal to tasks.journal.old and starts an empty
// one (quickly, under the lock), then writes tasks.json atomically and
// deletes tasks.journal.old without blocking requests. Replaying a journal
// over a snapshot that already holds it changes nothing, so a crash at any
// point loses nothing acknowledged. Thread-safe.
class TaskApi {
 public:
  // The storage directory's files are read and written through `fs`, which
  // must outlive the TaskApi.
  TaskApi(FileSystem& fs, TaskRegistry& registry, const poll::TaskStore& store,
          std::string storage_dir, TaskApiOptions options = {});
  ~TaskApi();  // stops the compaction thread

  // Registers the stored tasks: tasks.json, then the journals. A torn last
  // journal line (a write cut short) is ignored and logged. An unreadable
  // or corrupt tasks.json, or a journal with any other bad line, is set
  // aside under a new name (never deleted) and false returned with *error;
  // the exporter then starts without the tasks it held (and without later
  // journals, whose changes build on it). When journals were replayed their
  // content is compacted into tasks.json before Load returns. A storage
  // directory holding only tasks.json loads as it is.
  bool Load(std::string* error);

  ApiResponse Handle(const ApiRequest& request);

  // Registers every stored task again (after a configuration reload added
  // accounts): those already tracked are unchanged, those of an account
  // still not configured are logged and stay stored.
  void RegisterStored();

  // Folds the journal into tasks.json. False with *error when a file cannot
  // be written; nothing acknowledged is lost, and the next call retries.
  bool CompactOnce(std::string* error);

  std::string storage_file() const { return storage_file_; }
  const TaskJournal& journal() const { return journal_; }

 private:
  // An applied change whose journal line may not be durable yet, with what
  // undoes it.
  struct Change {
    uint64_t seq;
    poll::TaskKey key;
    std::optional<TaskEntry> before;  // registered_[key] before, if any
    bool registry_changed;            // the "api" source was added or removed
  };

  ApiResponse Create(const std::string& body);
  ApiResponse List() const;
  ApiResponse Delete(const std::vector<std::string>& segments,
                     const std::map<std::string, std::string>& query);
  // Waits until journal record `seq` is durable; on failure undoes the
  // failed changes and returns false with *error.
  bool Commit(uint64_t seq, std::string* error);
  // Require mutex_ held.
  void RegisterLocked();
  void UndoFailedLocked();
  void ForgetDurableLocked();
  std::vector<TaskEntry> SnapshotLocked() const;
  void MaybeRequestCompaction();
  void CompactorLoop();

  FileSystem& fs_;
  TaskRegistry& registry_;
  const poll::TaskStore& store_;
  const std::string storage_file_;
  const TaskApiOptions options_;
  TaskJournal journal_;
  std::atomic<size_t> snapshot_bytes_{0};
  std::mutex mutex_;
  // Guarded by mutex_: tasks registered through the API, by key, including
  // changes not yet durable; those changes, oldest first.
  std::map<poll::TaskKey, TaskEntry> registered_;
  std::deque<Change> unsynced_;

  std::mutex compactor_mutex_;
  std::condition_variable compactor_wake_;
  // Guarded by compactor_mutex_.
  bool compaction_wanted_ = false;
  bool compactor_stopping_ = false;
  std::thread compactor_;
};

// {"error": message} as a JSON document; invalid UTF-8 in message becomes
// U+FFFD. Never throws.
std::string ErrorJson(const std::string& message);

}  // namespace sas::discovery
