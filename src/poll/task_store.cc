#include "poll/task_store.h"

#include <algorithm>
#include <tuple>

namespace sas::poll {
namespace {

// A task remembered as completed is polled once more after a restart, to
// show its final values again.
bool Active(const TaskSnapshot& task) {
  return !task.completed_at || !task.polled;
}

// The fields TaskSnapshot::progress_revision follows.
auto ProgressFields(const TaskSnapshot& s) {
  return std::tie(s.progress, s.current_count, s.last_progress);
}
// The fields TaskSnapshot::revision follows: all but the poll times, the
// progress fields and the revisions.
auto StateFields(const TaskSnapshot& s) {
  return std::tie(s.definition.key, s.definition.name, s.polled, s.up,
                  s.has_data, s.total_count, s.state, s.status, s.file_name,
                  s.last_error_code, s.last_error_message, s.first_seen,
                  s.completed_at);
}

}  // namespace

TaskId TaskStore::Add(const TaskDefinition& definition, WallTime first_seen) {
  std::lock_guard lock(mutex_);
  if (auto it = by_key_.find(definition.key); it != by_key_.end()) {
    return (*it)->snapshot.id;
  }
  TaskId id = next_id_++;
  Record record;
  record.snapshot.id = id;
  record.snapshot.revision = ++last_revision_;
  record.snapshot.definition = definition;
  record.snapshot.first_seen = first_seen;
  record.snapshot.last_progress = first_seen;
  if (auto it = remembered_.find(definition.key); it != remembered_.end()) {
    const RememberedTask& memory = it->second;
    record.snapshot.first_seen = memory.first_seen;
    record.snapshot.last_progress = memory.last_progress;
    record.snapshot.completed_at = memory.completed_at;
    if (memory.progress_known) {
      record.snapshot.progress = memory.progress;
      record.snapshot.current_count = memory.current_count;
      record.known_progress = memory.progress;
      record.known_count = memory.current_count;
      record.progress_known = true;
    }
    // Used once: a task removed and added again later is a new task.
    remembered_.erase(it);
  }
  auto added = records_.emplace(id, std::move(record)).first;
  by_key_.insert(&added->second);
  ++unpolled_;
  return id;
}

std::optional<TaskId> TaskStore::Find(const TaskKey& key) const {
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return (*it)->snapshot.id;
}

bool TaskStore::Remove(const TaskKey& key) {
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  auto record = records_.find((*it)->snapshot.id);
  by_key_.erase(it);
  if (!record->second.snapshot.polled) --unpolled_;
  records_.erase(record);
  return true;
}

bool TaskStore::Rename(const TaskKey& key, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  TaskSnapshot& s = (*it)->snapshot;
  if (s.definition.name != name) {
    s.definition.name = name;
    s.revision = ++last_revision_;
  }
  return true;
}

void TaskStore::Remember(RememberedTasks remembered) {
  std::lock_guard lock(mutex_);
  remembered_ = std::move(remembered);
}

std::optional<TaskDefinition> TaskStore::Definition(TaskId id) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return std::nullopt;
  return it->second.snapshot.definition;
}

bool TaskStore::RecordSuccess(TaskId id, const aliyun::ExportInfo& info,
                              WallTime now, bool* new_unknown_status) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return false;
  Record& record = it->second;
  TaskSnapshot& s = record.snapshot;
  const TaskSnapshot before = s;
  if (!s.polled) --unpolled_;
  bool moved = !record.progress_known ||
               (info.progress && info.progress != record.known_progress) ||
               (info.current_count && info.current_count != record.known_count);
  if (moved) s.last_progress = now;
  record.progress_known = true;
  if (info.progress) record.known_progress = info.progress;
  if (info.current_count) record.known_count = info.current_count;
  s.polled = true;
  s.up = true;
  s.has_data = true;
  s.progress = info.progress;
  s.current_count = info.current_count;
  s.total_count = info.total_count;
  s.status = info.export_status;
  s.state.reset();
  if (info.export_status) {
    s.state =
        ClassifyExportStatus(s.definition.key.action, *info.export_status);
  }
  if (s.state == ExportState::kUnknown && !record.unknown_reported) {
    record.unknown_reported = true;
    if (new_unknown_status != nullptr) *new_unknown_status = true;
  }
  s.file_name = info.file_name;
  s.last_success = now;
  s.last_poll = now;
  s.last_error_code.clear();
  s.last_error_message.clear();
  if (s.state && IsFinal(*s.state)) {
    if (!s.completed_at) s.completed_at = now;
    // Also a task remembered as completed: its retention runs from then.
    if (std::none_of(finished_.begin(), finished_.end(),
                     [id](const auto& entry) { return entry.second == id; })) {
      std::pair<WallTime, TaskId> entry{*s.completed_at, id};
      finished_.insert(
          std::upper_bound(finished_.begin(), finished_.end(), entry), entry);
    }
  }
  Stamp(before, s);
  return true;
}

std::optional<std::string> TaskStore::RecordFailure(
    TaskId id, const aliyun::ApiError& error, WallTime now) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return std::nullopt;
  TaskSnapshot& s = it->second.snapshot;
  const TaskSnapshot before = s;
  std::string previous = s.last_error_code;
  if (!s.polled) --unpolled_;
  s.polled = true;
  s.up = false;
  s.last_poll = now;
  s.last_error_code = error.code;
  s.last_error_message = error.message;
  Stamp(before, s);
  return previous;
}

void TaskStore::Stamp(const TaskSnapshot& before, TaskSnapshot& after) {
  if (StateFields(before) != StateFields(after)) {
    after.revision = ++last_revision_;
  }
  if (ProgressFields(before) != ProgressFields(after)) {
    after.progress_revision = ++last_revision_;
  }
  if (before.last_success != after.last_success) {
    after.success_revision = ++last_revision_;
  }
}

bool TaskStore::NeedsPolling(TaskId id) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  return it != records_.end() && Active(it->second.snapshot);
}

std::map<std::string, size_t> TaskStore::ActiveTasksByAccount() const {
  std::map<std::string, size_t> active;
  std::lock_guard lock(mutex_);
  for (const auto& [id, record] : records_) {
    if (Active(record.snapshot))
      ++active[record.snapshot.definition.key.account];
  }
  return active;
}

void TaskStore::ExpireFinished(WallTime now) {
  std::lock_guard lock(mutex_);
  while (!finished_.empty() &&
         now >= SaturatingAdd(finished_.front().first, finished_retention_)) {
    TaskId id = finished_.front().second;
    finished_.pop_front();
    auto it = records_.find(id);
    if (it == records_.end()) continue;  // removed meanwhile
    by_key_.erase(by_key_.find(it->second.snapshot.definition.key));
    records_.erase(it);
  }
}

void TaskStore::SetFinishedRetention(Millis finished_retention) {
  std::lock_guard lock(mutex_);
  finished_retention_ = finished_retention;
}

std::vector<TaskSnapshot> TaskStore::Snapshot() const {
  std::vector<TaskSnapshot> out;
  std::lock_guard lock(mutex_);
  out.reserve(by_key_.size());
  for (const Record* record : by_key_) out.push_back(record->snapshot);
  return out;
}

size_t TaskStore::size() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

bool TaskStore::AllPolledOnce() const {
  std::lock_guard lock(mutex_);
  return unpolled_ == 0;
}

std::vector<TaskId> TaskStore::Ids() const {
  std::lock_guard lock(mutex_);
  std::vector<TaskId> ids;
  ids.reserve(records_.size());
  for (const auto& [id, record] : records_) ids.push_back(id);
  return ids;
}

bool TaskStore::PolledOrGone(std::vector<TaskId>* ids) const {
  std::lock_guard lock(mutex_);
  std::erase_if(*ids, [this](TaskId id) {
    auto it = records_.find(id);
    return it == records_.end() || it->second.snapshot.polled;
  });
  return ids->empty();
}

}  // namespace sas::poll
