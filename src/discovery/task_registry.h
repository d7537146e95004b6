#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "discovery/task_entry.h"
#include "poll/shard.h"
#include "poll/task_scheduler.h"
#include "poll/task_store.h"
#include "util/clock.h"

namespace sas::discovery {

// Which sources name each task. A task is tracked (in the store, polled)
// while at least one source names it: the configuration ("config"), a task
// file ("file:<path>"), the task API ("api"). The same task from two
// sources is tracked once. Only the tasks the replica's shard owns are
// tracked; the others are refused (kOtherShard), whatever their source.
// Thread-safe.
class TaskRegistry {
 public:
  enum class AddResult {
    kCreated,
    kExists,
    kUnknownAccount,
    kTooMany,
    kOtherShard
  };

  // `accounts` are the configured account names; at most max_tasks tasks
  // (of this shard) are tracked. A new task is first seen at its
  // created_at, else now.
  TaskRegistry(poll::TaskStore& store, poll::TaskScheduler& scheduler,
               const Clock& clock, std::set<std::string> accounts,
               size_t max_tasks, poll::Sharding sharding = {});

  // Adds `entry` for `source`. kExists when the task was tracked already
  // (from this or another source).
  AddResult Add(const std::string& source, const TaskEntry& entry);

  // Makes `source` name exactly `entries`: adds the new ones, drops the
  // ones it no longer names. Entries naming unknown accounts or past
  // max_tasks are skipped; their messages are returned. Entries of other
  // shards are skipped silently.
  std::vector<std::string> Replace(const std::string& source,
                                   const std::vector<TaskEntry>& entries);

  enum class RemoveResult { kRemoved, kNotFound, kHeldElsewhere };
  // Stops tracking a task that only `source` names: it is no longer polled
  // and its series disappear at once. kHeldElsewhere (nothing changes) when
  // other sources name it too, listed in *others; kNotFound when `source`
  // does not name it.
  RemoveResult Remove(const std::string& source, const poll::TaskKey& key,
                      std::vector<std::string>* others = nullptr);

  // Replaces the configured account names and max_tasks (a configuration
  // reload). Tasks of accounts no longer configured stop being tracked, from
  // every source; their keys are returned. Lowering max_tasks below the
  // tracked count drops nothing: new tasks are refused until below it.
  std::vector<poll::TaskKey> Reconfigure(std::set<std::string> accounts,
                                         size_t max_tasks);

  // Until this is called, added tasks wait; then they are scheduled spread
  // evenly over one poll interval, and tasks added later are polled at once.
  void StartPolling();

  // The sources naming a task (empty when untracked).
  std::vector<std::string> SourcesOf(const poll::TaskKey& key) const;
  size_t size() const;
  const poll::Sharding& sharding() const { return sharding_; }

 private:
  // Requires mutex_ held.
  const std::string* Intern(const std::string& source);
  AddResult AddLocked(const std::string& source, const TaskEntry& entry);
  void DropLocked(const std::string& source, const poll::TaskKey& key);

  poll::TaskStore& store_;
  poll::TaskScheduler& scheduler_;
  const Clock& clock_;
  const poll::Sharding sharding_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::set<std::string> accounts_;
  size_t max_tasks_;
  // Each task's sources, ordered by name: pointers into source_names_,
  // which holds each name once however many tasks it names.
  std::map<poll::TaskKey, std::vector<const std::string*>> sources_;
  std::set<std::string> source_names_;
  bool polling_ = false;
  std::vector<poll::TaskId> waiting_;
};

}  // namespace sas::discovery
