#include "discovery/task_journal.h"

#include <nlohmann/json.hpp>

namespace sas::discovery {
namespace {

using json = nlohmann::json;

std::string Failure(const std::string& path, const char* what,
                    const FileStatus& status) {
  return path + ": cannot " + what + ": " + status.message;
}

bool ParseLine(std::string_view line, JournalRecord* record,
               std::string* error) {
  json document = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  auto op = document.find("op");
  auto task = document.find("task");
  if (op == document.end() || !op->is_string() || task == document.end() ||
      !task->is_object() || document.size() != 2) {
    *error = "expected {\"op\": \"add\" or \"remove\", \"task\": {...}}";
    return false;
  }
  if (*op == "add") {
    record->op = JournalRecord::Op::kAdd;
  } else if (*op == "remove") {
    record->op = JournalRecord::Op::kRemove;
  } else {
    *error = "unknown op " + op->dump();
    return false;
  }
  return ParseTaskObject(task->dump(), &record->entry, error);
}

}  // namespace

std::string JournalLine(const JournalRecord& record) {
  TaskEntry written = record.entry;
  if (record.op == JournalRecord::Op::kRemove) {
    written.name.clear();
    written.created_at.reset();
  }
  json task = json::parse(TaskEntriesToJson({written})).at(0);
  json line = {{"op", record.op == JournalRecord::Op::kAdd ? "add" : "remove"},
               {"task", std::move(task)}};
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

ReplayResult ReplayJournal(std::string_view text, const std::string& path,
                           std::map<poll::TaskKey, TaskEntry>* tasks) {
  ReplayResult result;
  std::vector<JournalRecord> records;
  size_t start = 0;
  for (size_t line_number = 1; start < text.size(); ++line_number) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      result.torn_tail = true;
      break;
    }
    JournalRecord record;
    std::string why;
    if (!ParseLine(text.substr(start, end - start), &record, &why)) {
      result.ok = false;
      result.error = path + ":" + std::to_string(line_number) + ": " + why;
      return result;
    }
    records.push_back(std::move(record));
    start = end + 1;
  }
  result.complete_bytes = start;
  result.records = records.size();
  for (JournalRecord& record : records) {
    if (record.op == JournalRecord::Op::kAdd) {
      (*tasks)[record.entry.Key()] = std::move(record.entry);
    } else {
      tasks->erase(record.entry.Key());
    }
  }
  return result;
}

TaskJournal::TaskJournal(FileSystem& fs, std::string path,
                         JournalOptions options)
    : fs_(fs),
      path_(std::move(path)),
      old_path_(path_ + ".old"),
      directory_(DirectoryOf(path_)),
      options_(std::move(options)) {}

TaskJournal::~TaskJournal() = default;

bool TaskJournal::OpenLocked(std::string* error) {
  fs_.CreateDirectories(directory_);
  std::unique_ptr<WritableFile> file;
  if (FileStatus status = fs_.OpenForAppend(path_, /*truncate=*/false, &file);
      !status.ok()) {
    *error = Failure(path_, "open", status);
    return false;
  }
  if (FileStatus status = fs_.SyncDirectory(directory_); !status.ok()) {
    *error = Failure(directory_, "fsync", status);
    return false;
  }
  bytes_ = file->Size();
  file_ = std::move(file);
  broken_ = false;
  return true;
}

bool TaskJournal::Open(size_t keep_bytes, std::string* error) {
  std::unique_lock lock(mutex_);
  WaitForNoWriter(lock);
  if (!OpenLocked(error)) return false;
  if (bytes_ > keep_bytes) {
    FileStatus status = file_->Truncate(keep_bytes);
    if (status.ok()) status = file_->Sync();
    if (!status.ok()) {
      *error = Failure(path_, "cut the torn last line from", status);
      broken_ = true;
      failure_ = *error;
      return false;
    }
    bytes_ = keep_bytes;
  }
  return true;
}

bool TaskJournal::Reset(std::string* error) {
  std::unique_lock lock(mutex_);
  WaitForNoWriter(lock);
  if (!queue_.empty()) {
    *error = path_ + ": cannot reset with records waiting to be written";
    return false;
  }
  // The old journal goes first, durably: replayed without the current one
  // after it, it could undo changes the snapshot holds.
  if (FileStatus status = fs_.RemoveFile(old_path_); status.ok()) {
    if (FileStatus synced = fs_.SyncDirectory(directory_); !synced.ok()) {
      *error = Failure(directory_, "fsync", synced);
      return false;
    }
  } else if (status.error != FileError::kNotFound) {
    *error = Failure(old_path_, "delete", status);
    return false;
  }
  std::string temporary = path_ + ".tmp";
  std::unique_ptr<WritableFile> empty;
  if (FileStatus status =
          fs_.OpenForAppend(temporary, /*truncate=*/true, &empty);
      !status.ok()) {
    *error = Failure(temporary, "create", status);
    return false;
  }
  empty.reset();
  if (FileStatus status = fs_.Rename(temporary, path_); !status.ok()) {
    *error = Failure(path_, "replace", status);
    fs_.RemoveFile(temporary);
    return false;
  }
  return OpenLocked(error);
}

bool TaskJournal::Rotate(std::string* error) {
  std::unique_lock lock(mutex_);
  WaitForNoWriter(lock);
  if (!queue_.empty() || broken_ || failed_from_) {
    *error = path_ + ": cannot rotate: " +
             (broken_ ? failure_ : "records are waiting to be written");
    return false;
  }
  if (fs_.Exists(old_path_)) {
    *error = old_path_ + " exists: the last compaction did not finish";
    return false;
  }
  if (!file_ && !OpenLocked(error)) return false;
  if (FileStatus status = fs_.Rename(path_, old_path_); !status.ok()) {
    *error = Failure(path_, "rename", status);
    return false;
  }
  if (!OpenLocked(error)) {
    // Appending continues in the renamed file until a rotation succeeds.
    if (!fs_.Rename(old_path_, path_).ok()) broken_ = true;
    return false;
  }
  return true;
}

bool TaskJournal::DropOld(std::string* error) {
  if (FileStatus status = fs_.RemoveFile(old_path_); !status.ok()) {
    if (status.error == FileError::kNotFound) return true;
    *error = Failure(old_path_, "delete", status);
    return false;
  }
  if (FileStatus status = fs_.SyncDirectory(directory_); !status.ok()) {
    *error = Failure(directory_, "fsync", status);
    return false;
  }
  return true;
}

bool TaskJournal::has_old() const { return fs_.Exists(old_path_); }

uint64_t TaskJournal::Append(std::string line) {
  std::lock_guard lock(mutex_);
  uint64_t seq = next_seq_++;
  if (failed_from_) return seq;  // failed already
  if (queue_.empty()) queue_first_seq_ = seq;
  queue_.push_back(std::move(line));
  return seq;
}

uint64_t TaskJournal::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

uint64_t TaskJournal::durable_seq() const {
  std::lock_guard lock(mutex_);
  return durable_seq_;
}

bool TaskJournal::Failed(uint64_t seq) const {
  if (failed_from_ && seq >= *failed_from_) return true;
  for (const auto& [first, last] : failed_ranges_) {
    if (seq >= first && seq <= last) return true;
  }
  return false;
}

bool TaskJournal::WaitDurable(uint64_t seq, std::string* error) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (Failed(seq)) {
      *error = failure_;
      return false;
    }
    if (seq <= durable_seq_) return true;
    if (writing_) {
      changed_.wait(lock);
      continue;
    }
    if (queue_.empty()) {
      *error = "no journal record " + std::to_string(seq);
      return false;
    }
    writing_ = true;
    uint64_t first = queue_first_seq_;
    uint64_t last = first + queue_.size() - 1;
    std::string batch;
    for (const std::string& line : queue_) batch += line;
    queue_.clear();
    std::string why;
    bool ok = !broken_ && (file_ || OpenLocked(&why));
    if (!ok && why.empty()) why = failure_;
    WritableFile* file = file_.get();
    size_t good_bytes = bytes_;
    lock.unlock();
    bool cut = true;
    bool synced = ok;
    if (ok) {
      if (FileStatus status = file->Append(batch); !status.ok()) {
        why = Failure(path_, "write", status);
        ok = false;
      } else if (status = options_.sync ? options_.sync(*file) : file->Sync();
                 !status.ok()) {
        why = Failure(path_, "flush", status);
        ok = false;
      }
      if (!ok) cut = file->Truncate(good_bytes).ok() && file->Sync().ok();
    }
    lock.lock();
    writing_ = false;
    if (synced) ++syncs_;
    if (ok) {
      durable_seq_ = last;
      bytes_ += batch.size();
    } else {
      failed_from_ = first;
      failure_ = why;
      if (!cut) {
        broken_ = true;
        failure_ +=
            "; and it could not be cut back, so it takes no more "
            "writes until it is compacted";
      }
    }
    changed_.notify_all();
  }
}

std::optional<uint64_t> TaskJournal::failed_from() const {
  std::lock_guard lock(mutex_);
  return failed_from_;
}

void TaskJournal::Recover() {
  std::lock_guard lock(mutex_);
  if (!failed_from_) return;
  failed_ranges_.emplace_back(*failed_from_, next_seq_ - 1);
  durable_seq_ = next_seq_ - 1;
  failed_from_.reset();
}

bool TaskJournal::broken() const {
  std::lock_guard lock(mutex_);
  return broken_;
}

size_t TaskJournal::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

uint64_t TaskJournal::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

void TaskJournal::WaitForNoWriter(std::unique_lock<std::mutex>& lock) {
  changed_.wait(lock, [this] { return !writing_; });
}

}  // namespace sas::discovery
