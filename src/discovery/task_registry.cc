#include "discovery/task_registry.h"

#include <algorithm>

#include "util/log.h"

namespace sas::discovery {

TaskRegistry::TaskRegistry(poll::TaskStore& store,
                           poll::TaskScheduler& scheduler, const Clock& clock,
                           std::set<std::string> accounts, size_t max_tasks,
                           poll::Sharding sharding)
    : store_(store),
      scheduler_(scheduler),
      clock_(clock),
      sharding_(sharding),
      accounts_(std::move(accounts)),
      max_tasks_(max_tasks) {}

namespace {

using SourceList = std::vector<const std::string*>;

// Where `source` is or would be in `list` (ordered by name).
SourceList::const_iterator Position(const SourceList& list,
                                    const std::string& source) {
  return std::lower_bound(
      list.begin(), list.end(), source,
      [](const std::string* name, const std::string& s) { return *name < s; });
}

bool Holds(const SourceList& list, const std::string& source) {
  auto it = Position(list, source);
  return it != list.end() && **it == source;
}

void Insert(SourceList& list, const std::string* name) {
  auto it = Position(list, *name);
  if (it == list.end() || **it != *name) list.insert(it, name);
}

bool Erase(SourceList& list, const std::string& source) {
  auto it = Position(list, source);
  if (it == list.end() || **it != source) return false;
  list.erase(it);
  return true;
}

}  // namespace

const std::string* TaskRegistry::Intern(const std::string& source) {
  return &*source_names_.insert(source).first;
}

TaskRegistry::AddResult TaskRegistry::Add(const std::string& source,
                                          const TaskEntry& entry) {
  std::lock_guard lock(mutex_);
  return AddLocked(source, entry);
}

TaskRegistry::AddResult TaskRegistry::AddLocked(const std::string& source,
                                                const TaskEntry& entry) {
  if (!accounts_.contains(entry.account)) return AddResult::kUnknownAccount;
  poll::TaskKey key = entry.Key();
  if (!sharding_.Owns(key)) return AddResult::kOtherShard;
  auto it = sources_.find(key);
  if (it != sources_.end()) {
    Insert(it->second, Intern(source));
    return AddResult::kExists;
  }
  if (sources_.size() >= max_tasks_) return AddResult::kTooMany;
  sources_[key] = {Intern(source)};
  poll::TaskId id =
      store_.Add(entry.Definition(), entry.created_at.value_or(clock_.Now()));
  // Discovered exports are not polled one by one: their lister records them.
  if (aliyun::IsDiscoveredAction(key.action)) return AddResult::kCreated;
  if (polling_) {
    scheduler_.Schedule(id, clock_.SteadyNow());
  } else {
    waiting_.push_back(id);
  }
  return AddResult::kCreated;
}

void TaskRegistry::DropLocked(const std::string& source,
                              const poll::TaskKey& key) {
  auto it = sources_.find(key);
  if (it == sources_.end()) return;
  Erase(it->second, source);
  if (it->second.empty()) {
    sources_.erase(it);
    store_.Remove(key);
  }
}

std::vector<std::string> TaskRegistry::Replace(
    const std::string& source, const std::vector<TaskEntry>& entries) {
  std::vector<std::string> problems;
  std::lock_guard lock(mutex_);
  std::set<poll::TaskKey> wanted;
  for (const TaskEntry& entry : entries) wanted.insert(entry.Key());
  std::vector<poll::TaskKey> unwanted;
  for (const auto& [key, list] : sources_) {
    if (!wanted.contains(key) && Holds(list, source)) unwanted.push_back(key);
  }
  for (const poll::TaskKey& key : unwanted) DropLocked(source, key);
  for (const TaskEntry& entry : entries) {
    switch (AddLocked(source, entry)) {
      case AddResult::kUnknownAccount:
        problems.push_back("task " + entry.Key().ToString() +
                           ": no account named \"" + entry.account + "\"");
        break;
      case AddResult::kTooMany:
        problems.push_back("task " + entry.Key().ToString() +
                           ": not tracked, max_tasks (" +
                           std::to_string(max_tasks_) + ") reached");
        break;
      default:
        break;
    }
  }
  return problems;
}

TaskRegistry::RemoveResult TaskRegistry::Remove(
    const std::string& source, const poll::TaskKey& key,
    std::vector<std::string>* others) {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(key);
  if (it == sources_.end()) return RemoveResult::kNotFound;
  SourceList rest = it->second;
  bool held = Erase(rest, source);
  if (!held || !rest.empty()) {
    if (others != nullptr) {
      others->clear();
      for (const std::string* name : rest) others->push_back(*name);
    }
    return held ? RemoveResult::kHeldElsewhere : RemoveResult::kNotFound;
  }
  DropLocked(source, key);
  return RemoveResult::kRemoved;
}

std::vector<poll::TaskKey> TaskRegistry::Reconfigure(
    std::set<std::string> accounts, size_t max_tasks) {
  std::vector<poll::TaskKey> dropped;
  std::lock_guard lock(mutex_);
  accounts_ = std::move(accounts);
  max_tasks_ = max_tasks;
  for (auto it = sources_.begin(); it != sources_.end();) {
    if (accounts_.contains(it->first.account)) {
      ++it;
      continue;
    }
    store_.Remove(it->first);
    dropped.push_back(it->first);
    it = sources_.erase(it);
  }
  return dropped;
}

void TaskRegistry::StartPolling() {
  std::lock_guard lock(mutex_);
  polling_ = true;
  scheduler_.ScheduleSpread(waiting_);
  waiting_ = {};
}

std::vector<std::string> TaskRegistry::SourcesOf(
    const poll::TaskKey& key) const {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(key);
  if (it == sources_.end()) return {};
  std::vector<std::string> names;
  for (const std::string* name : it->second) names.push_back(*name);
  return names;
}

size_t TaskRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sources_.size();
}

}  // namespace sas::discovery
