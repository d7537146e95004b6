#include "discovery/task_api.h"

#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/file_system.h"
#include "util/log.h"
#include "util/strings.h"

namespace sas::discovery {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSource = "api";
constexpr std::string_view kTaskPathShape =
    "expected /api/v1/tasks/{account}/{export_id}";

// How long the compaction thread waits after a failed compaction.
constexpr std::chrono::seconds kCompactionRetry{10};

std::optional<int64_t> ParsePositive(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    return std::nullopt;
  }
  return value;
}

std::string Dump(const json& document) {
  return document.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

ApiResponse Error(int status, const std::string& message) {
  return {status, ErrorJson(message)};
}

// 421 Misdirected Request (RFC 9110, 15.5.20): the task belongs to another
// replica's shard; "shard" names it, so a client can send it there.
ApiResponse Misdirected(const poll::TaskKey& key, const poll::Sharding& mine) {
  int owner = mine.OwnerOf(key);
  json body = {
      {"error",
       "task " + key.ToString() + " belongs to shard " + std::to_string(owner) +
           " of " + std::to_string(mine.total) +
           ", not to this replica (shard " + std::to_string(mine.shard) +
           "): register or delete it there"},
      {"shard", owner}};
  return {421, Dump(body)};
}

json EntryJson(const TaskEntry& entry) {
  json object = {{"account", entry.account},
                 {"action", aliyun::ExportActionName(entry.action)},
                 {"export_id", entry.export_id}};
  object["rd_account_id"] =
      entry.rd_account_id ? json(*entry.rd_account_id) : json(nullptr);
  object["name"] = entry.Definition().name;
  return object;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Reads one storage file; "" without error when it does not exist.
bool ReadStorageFile(const FileSystem& fs, const std::string& path,
                     std::string* content, std::string* error) {
  FileReadResult read = fs.ReadFile(path, 1 << 30);
  if (read.ok) {
    *content = std::move(read.content);
    return true;
  }
  content->clear();
  if (read.kind == FileError::kNotFound) return true;
  *error = path + ": cannot read: " + read.error;
  return false;
}

std::string SetAsideNote(FileSystem& fs, const std::string& path) {
  std::string aside_error;
  std::string aside = SetAside(fs, path, &aside_error);
  return aside.empty() ? "; and " + aside_error
                       : "; the file was set aside as " + aside;
}

}  // namespace

std::string ErrorJson(const std::string& message) {
  return Dump(json{{"error", message}});
}

TaskApi::TaskApi(FileSystem& fs, TaskRegistry& registry,
                 const poll::TaskStore& store, std::string storage_dir,
                 TaskApiOptions options)
    : fs_(fs),
      registry_(registry),
      store_(store),
      storage_file_(storage_dir + "/tasks.json"),
      options_(std::move(options)),
      journal_(fs, storage_dir + "/tasks.journal", options_.journal) {
  if (options_.background_compaction) {
    compactor_ = std::thread([this] { CompactorLoop(); });
  }
}

TaskApi::~TaskApi() {
  if (compactor_.joinable()) {
    {
      std::lock_guard lock(compactor_mutex_);
      compactor_stopping_ = true;
    }
    compactor_wake_.notify_all();
    compactor_.join();
  }
}

void TaskApi::RegisterStored() {
  std::lock_guard lock(mutex_);
  RegisterLocked();
}

void TaskApi::RegisterLocked() {
  for (const auto& [key, entry] : registered_) {
    switch (registry_.Add(std::string(kSource), entry)) {
      case TaskRegistry::AddResult::kUnknownAccount:
        log::Warn(
            "Stored task names an account no longer configured; kept "
            "in storage, not polled",
            {{"task", key.ToString()}, {"file", storage_file_}});
        break;
      case TaskRegistry::AddResult::kOtherShard:
        log::Warn(
            "Stored task belongs to another shard; kept in storage, not "
            "polled: register it with the replica of that shard",
            {{"task", key.ToString()},
             {"shard", std::to_string(registry_.sharding().OwnerOf(key))},
             {"file", storage_file_}});
        break;
      default:
        break;
    }
  }
}

bool TaskApi::Load(std::string* error) {
  std::lock_guard lock(mutex_);
  std::map<poll::TaskKey, TaskEntry> tasks;
  std::vector<std::string> errors;
  std::string content;
  std::string why;
  // Set aside when unreadable too: the next compaction would replace it.
  bool snapshot_ok = ReadStorageFile(fs_, storage_file_, &content, &why);
  if (!snapshot_ok) errors.push_back(why + SetAsideNote(fs_, storage_file_));
  snapshot_bytes_ = content.size();
  std::vector<TaskEntry> entries;
  if (snapshot_ok && !content.empty() &&
      !ParseTaskFile(content, storage_file_, &entries, &why)) {
    errors.push_back(why + SetAsideNote(fs_, storage_file_));
    snapshot_ok = false;
  }
  for (TaskEntry& entry : entries) tasks[entry.Key()] = std::move(entry);

  // The journals hold changes to the snapshot, and the current one changes
  // to the old one: once one is unusable, the later ones are set aside too.
  bool usable = snapshot_ok;
  bool replayed = false;
  size_t keep_bytes = 0;
  for (const std::string& path : {journal_.old_path(), journal_.path()}) {
    std::string text;
    if (!ReadStorageFile(fs_, path, &text, &why)) {
      errors.push_back(why + SetAsideNote(fs_, path));
      usable = false;
      continue;
    }
    if (text.empty()) continue;
    if (!usable) {
      errors.push_back(path + ": not replayed: it changes a file set aside" +
                       SetAsideNote(fs_, path));
      continue;
    }
    ReplayResult replay = ReplayJournal(text, path, &tasks);
    if (!replay.ok) {
      errors.push_back(replay.error + SetAsideNote(fs_, path));
      usable = false;
      continue;
    }
    if (replay.torn_tail) {
      log::Warn(
          "Ignored the torn last line of the task journal (a write cut short "
          "by a crash; it was never acknowledged)",
          {{"file", path},
           {"bytes", std::to_string(text.size() - replay.complete_bytes)}});
    }
    replayed = true;
    if (path == journal_.path()) keep_bytes = replay.complete_bytes;
  }

  registered_ = std::move(tasks);
  RegisterLocked();

  bool opened = false;
  if (replayed || journal_.has_old()) {
    std::string snapshot = TaskEntriesToJson(SnapshotLocked());
    if (WriteFileAtomically(fs_, storage_file_, snapshot, &why) &&
        journal_.Reset(&why)) {
      snapshot_bytes_ = snapshot.size();
      opened = true;
    } else {
      errors.push_back("cannot compact the task journal: " + why);
    }
  }
  if (!opened && !journal_.Open(keep_bytes, &why)) errors.push_back(why);
  if (errors.empty()) return true;
  *error = errors.front();
  for (size_t i = 1; i < errors.size(); ++i) *error += "; " + errors[i];
  return false;
}

std::vector<TaskEntry> TaskApi::SnapshotLocked() const {
  std::vector<TaskEntry> entries;
  entries.reserve(registered_.size());
  for (const auto& [key, entry] : registered_) entries.push_back(entry);
  return entries;
}

ApiResponse TaskApi::Handle(const ApiRequest& request) {
  if (request.path.empty() || request.path[0] != '/') {
    return Error(404, "no such API path: " + request.path);
  }
  std::vector<std::string> segments;
  for (const std::string& raw : Split(request.path.substr(1), '/')) {
    std::string segment;
    if (!PercentDecode(raw, &segment)) {
      return Error(400, "path segment \"" + raw +
                            "\" has a malformed %-escape (% and two hex "
                            "digits)");
    }
    if (!IsValidUtf8(segment)) {
      return Error(400, "path segment is not valid UTF-8");
    }
    segments.push_back(std::move(segment));
  }
  if (segments.size() < 3 || segments[0] != "api" || segments[1] != "v1" ||
      segments[2] != "tasks") {
    return Error(404, "no such API path: " + request.path);
  }
  if (segments.size() == 3 || (segments.size() == 4 && segments[3].empty())) {
    if (request.method == "POST") return Create(request.body);
    if (request.method == "GET") return List();
    return Error(
        405, request.method + " is not allowed on /api/v1/tasks (GET, POST)");
  }
  if (request.method == "DELETE") return Delete(segments, request.query);
  return Error(405, request.method + " is not allowed on a task (DELETE)");
}

void TaskApi::ForgetDurableLocked() {
  uint64_t durable = journal_.durable_seq();
  while (!unsynced_.empty() && unsynced_.front().seq <= durable) {
    unsynced_.pop_front();
  }
}

void TaskApi::UndoFailedLocked() {
  std::optional<uint64_t> from = journal_.failed_from();
  if (!from) return;  // another request undid them already
  while (!unsynced_.empty() && unsynced_.back().seq >= *from) {
    const Change& change = unsynced_.back();
    if (change.before) {
      registered_[change.key] = *change.before;
      if (change.registry_changed) {
        registry_.Add(std::string(kSource), *change.before);
      }
    } else {
      registered_.erase(change.key);
      if (change.registry_changed) {
        registry_.Remove(std::string(kSource), change.key);
      }
    }
    unsynced_.pop_back();
  }
  journal_.Recover();
}

bool TaskApi::Commit(uint64_t seq, std::string* error) {
  if (journal_.WaitDurable(seq, error)) {
    MaybeRequestCompaction();
    return true;
  }
  std::lock_guard lock(mutex_);
  UndoFailedLocked();
  if (journal_.broken()) MaybeRequestCompaction();
  return false;
}

ApiResponse TaskApi::Create(const std::string& body) {
  TaskEntry entry;
  std::string why;
  if (!ParseTaskObject(body, &entry, &why)) return Error(400, why);
  if (std::string problem = MemberAccountProblem(entry); !problem.empty()) {
    return Error(422, problem);
  }
  TaskRegistry::AddResult result;
  uint64_t seq;
  {
    std::lock_guard lock(mutex_);
    ForgetDurableLocked();
    bool known = registered_.contains(entry.Key());
    result = registry_.Add(std::string(kSource), entry);
    switch (result) {
      case TaskRegistry::AddResult::kUnknownAccount:
        return Error(
            422, "no account named \"" + entry.account + "\" is configured");
      case TaskRegistry::AddResult::kTooMany:
        return Error(429, "max_tasks reached: no more tasks can be tracked");
      case TaskRegistry::AddResult::kOtherShard:
        return Misdirected(entry.Key(), registry_.sharding());
      default:
        break;
    }
    if (known) {
      // Answer only once whatever registered it is durable.
      seq = journal_.last_seq();
    } else {
      registered_[entry.Key()] = entry;
      seq = journal_.Append(JournalLine({JournalRecord::Op::kAdd, entry}));
      unsynced_.push_back({seq, entry.Key(), std::nullopt,
                           result == TaskRegistry::AddResult::kCreated});
    }
  }
  if (!Commit(seq, &why)) {
    log::Error("Cannot store a registered task", {{"err", why}});
    return Error(500, "the task could not be stored: " + why);
  }
  return {result == TaskRegistry::AddResult::kCreated ? 201 : 200,
          Dump(EntryJson(entry))};
}

ApiResponse TaskApi::List() const {
  json tasks = json::array();
  for (const poll::TaskSnapshot& task : store_.Snapshot()) {
    const poll::TaskKey& key = task.definition.key;
    json object = {
        {"account", key.account},
        {"action", aliyun::ExportActionName(key.action)},
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
      // A field the latest answer lacked is null.
      auto optional = [](const auto& value) {
        return value ? json(*value) : json(nullptr);
      };
      object["status"] = optional(task.status);
      object["state"] =
          task.state ? json(poll::ExportStateName(*task.state)) : json(nullptr);
      object["progress"] = optional(task.progress);
      object["current_count"] = optional(task.current_count);
      object["total_count"] = optional(task.total_count);
      object["file_name"] = optional(task.file_name);
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
  const poll::Sharding& sharding = registry_.sharding();
  return {200, Dump(json{{"tasks", tasks},
                         {"shard", sharding.shard},
                         {"total_shards", sharding.total}})};
}

ApiResponse TaskApi::Delete(const std::vector<std::string>& segments,
                            const std::map<std::string, std::string>& query) {
  if (segments.size() != 5 || segments[3].empty() || segments[4].empty()) {
    return Error(404, std::string(kTaskPathShape));
  }
  if (HasControlCharacter(segments[3])) {
    return Error(400, "the account in the path contains control characters");
  }
  poll::TaskKey key;
  key.account = segments[3];
  auto export_id = ParsePositive(segments[4]);
  if (!export_id) {
    return Error(400, "export_id in the path must be a positive integer");
  }
  key.export_id = *export_id;
  if (auto rd = query.find("rd_account_id"); rd != query.end()) {
    auto value = ParsePositive(rd->second);
    if (!value) return Error(400, "rd_account_id must be a positive integer");
    key.rd_account_id = *value;
  }
  if (auto action = query.find("action"); action != query.end()) {
    auto parsed = aliyun::ParseExportAction(action->second);
    if (!parsed) {
      return Error(400, "action must be one of " + aliyun::ExportActionNames());
    }
    key.action = *parsed;
  }
  uint64_t seq;
  {
    std::lock_guard lock(mutex_);
    ForgetDurableLocked();
    // A task stored here but not tracked (its account is gone, or it
    // belongs to another shard) can still be deleted from storage.
    const bool stored = registered_.contains(key);
    if (!stored && !registry_.sharding().Owns(key)) {
      return Misdirected(key, registry_.sharding());
    }
    std::vector<std::string> others;
    bool tracked = true;
    switch (registry_.Remove(std::string(kSource), key, &others)) {
      case TaskRegistry::RemoveResult::kNotFound: {
        if (stored && others.empty()) {
          tracked = false;
          break;
        }
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
    auto found = registered_.find(key);
    std::optional<TaskEntry> before;
    if (found != registered_.end()) {
      before = found->second;
      registered_.erase(found);
    }
    TaskEntry removed;
    removed.account = key.account;
    removed.export_id = key.export_id;
    removed.rd_account_id = key.rd_account_id;
    removed.action = key.action;
    seq = journal_.Append(JournalLine({JournalRecord::Op::kRemove, removed}));
    unsynced_.push_back({seq, key, before ? before : removed, tracked});
  }
  std::string error;
  if (!Commit(seq, &error)) {
    log::Error("Cannot store the task list after a removal", {{"err", error}});
    return Error(500, "the removal could not be stored: " + error);
  }
  return {204, ""};
}

bool TaskApi::CompactOnce(std::string* error) {
  std::vector<TaskEntry> snapshot;
  {
    std::lock_guard lock(mutex_);
    // Every change in the snapshot must be durable in a journal first.
    std::string why;
    if (!journal_.WaitDurable(journal_.last_seq(), &why)) UndoFailedLocked();
    unsynced_.clear();
    snapshot = SnapshotLocked();
    if (journal_.broken()) {
      // Nothing more can be appended: make the snapshot durable, then
      // start a new journal, before any request proceeds.
      std::string content = TaskEntriesToJson(snapshot);
      if (!WriteFileAtomically(fs_, storage_file_, content, error) ||
          !journal_.Reset(error)) {
        return false;
      }
      snapshot_bytes_ = content.size();
      return true;
    }
    // A journal.old left by an unfinished compaction is folded in as it is:
    // the snapshot then also holds a prefix of the current journal, which a
    // replay applies again harmlessly.
    if (!journal_.has_old() && !journal_.Rotate(error)) return false;
  }
  std::string content = TaskEntriesToJson(snapshot);
  if (!WriteFileAtomically(fs_, storage_file_, content, error)) return false;
  snapshot_bytes_ = content.size();
  return journal_.DropOld(error);
}

void TaskApi::MaybeRequestCompaction() {
  if (!compactor_.joinable()) return;
  size_t threshold =
      std::max(options_.min_compaction_bytes, snapshot_bytes_.load());
  if (journal_.bytes() < threshold && !journal_.broken()) return;
  {
    std::lock_guard lock(compactor_mutex_);
    compaction_wanted_ = true;
  }
  compactor_wake_.notify_one();
}

void TaskApi::CompactorLoop() {
  std::unique_lock lock(compactor_mutex_);
  while (true) {
    compactor_wake_.wait(
        lock, [this] { return compactor_stopping_ || compaction_wanted_; });
    if (compactor_stopping_) return;
    compaction_wanted_ = false;
    lock.unlock();
    std::string error;
    bool ok = CompactOnce(&error);
    if (ok) {
      log::Debug("Compacted the task journal into the snapshot",
                 {{"file", storage_file_}});
    } else {
      log::Error("Cannot compact the task journal; retrying later",
                 {{"err", error}});
    }
    lock.lock();
    if (!ok) {
      compactor_wake_.wait_for(lock, kCompactionRetry,
                               [this] { return compactor_stopping_; });
    }
  }
}

}  // namespace sas::discovery
