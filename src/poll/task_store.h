#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aliyun/response.h"
#include "poll/state_file.h"
#include "poll/task.h"
#include "util/duration.h"

namespace sas::poll {

// The state of every tracked task. Writers are the poll workers; readers
// take snapshots for /metrics and pages. A finished task (a final status:
// success or failed) stays for the retention period after completion, then is
// forgotten. Thread-safe.
class TaskStore {
 public:
  explicit TaskStore(Millis finished_retention)
      : finished_retention_(finished_retention) {}

  // Tracks a task first seen at `first_seen`; returns its id. A key already
  // tracked keeps its state and id (its name and first_seen do not change).
  // A remembered task (see Remember) takes its clocks from memory instead.
  TaskId Add(const TaskDefinition& definition, WallTime first_seen);

  // Renames a tracked task (its `task` label); false when untracked.
  bool Rename(const TaskKey& key, const std::string& name);

  // State from before a restart, used by Add for the tasks it names (once
  // each).
  void Remember(RememberedTasks remembered);
  // Stops tracking; returns false when the key was unknown.
  bool Remove(const TaskKey& key);

  std::optional<TaskDefinition> Definition(TaskId id) const;
  // The id of a tracked task, or nullopt.
  std::optional<TaskId> Find(const TaskKey& key) const;

  // Record a poll's outcome. Returns false when the task is no longer
  // tracked. A success whose status is final (success, failed) finishes the
  // task; the first success, and one that carries a Progress or CurrentCount
  // different from the last one seen, moves last_progress. A field the
  // answer lacks is dropped from the snapshot. *new_unknown_status (when
  // given) is set true the first time this task shows a status its action
  // does not document, so the caller logs it once per task.
  bool RecordSuccess(TaskId id, const aliyun::ExportInfo& info, WallTime now,
                     bool* new_unknown_status = nullptr);
  // RecordFailure returns the previous poll's error code ("" when it
  // succeeded or there was none), or nullopt when the task is not tracked.
  std::optional<std::string> RecordFailure(TaskId id,
                                           const aliyun::ApiError& error,
                                           WallTime now);

  // True when the task is tracked and not finished (it should be polled).
  bool NeedsPolling(TaskId id) const;

  // Forgets finished tasks whose retention has passed.
  void ExpireFinished(WallTime now);
  // Changes the retention (a configuration reload); it applies to the tasks
  // finished already too, at the next ExpireFinished.
  void SetFinishedRetention(Millis finished_retention);

  // Every tracked task, ordered by key, with its id and revisions.
  std::vector<TaskSnapshot> Snapshot() const;
  size_t size() const;
  // True when every tracked task has been polled at least once.
  bool AllPolledOnce() const;
  // The ids of every tracked task.
  std::vector<TaskId> Ids() const;
  // Drops from *ids the tasks polled at least once and those no longer
  // tracked; true when none is left.
  bool PolledOrGone(std::vector<TaskId>* ids) const;
  // The number of tasks that need polling (see NeedsPolling), per account;
  // accounts without any are absent.
  std::map<std::string, size_t> ActiveTasksByAccount() const;

 private:
  struct Record {
    TaskSnapshot snapshot;
    // A poll succeeded (or memory from before a restart says one did);
    // known_progress and known_count are the latest Progress and
    // CurrentCount seen, which last_progress refers to.
    bool progress_known = false;
    std::optional<int64_t> known_progress;
    std::optional<int64_t> known_count;
    // An undocumented status was reported for this task.
    bool unknown_reported = false;
  };

  // Orders records by key, and finds one by key alone.
  struct ByKey {
    using is_transparent = void;
    static const TaskKey& KeyOf(const Record* record) {
      return record->snapshot.definition.key;
    }
    static const TaskKey& KeyOf(const TaskKey& key) { return key; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return KeyOf(a) < KeyOf(b);
    }
  };

  // Sets the revisions of `after`, which was `before` until a change.
  void Stamp(const TaskSnapshot& before, TaskSnapshot& after);

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  Millis finished_retention_;
  TaskId next_id_ = 1;
  uint64_t last_revision_ = 0;
  std::map<TaskId, Record> records_;
  // Every record of records_, by key: an index that stores no key of its
  // own (a record's key never changes).
  std::set<Record*, ByKey> by_key_;
  size_t unpolled_ = 0;
  // Completed tasks in completion order: (completed_at, id).
  std::deque<std::pair<WallTime, TaskId>> finished_;
  RememberedTasks remembered_;
};

}  // namespace sas::poll
