#include "discovery/task_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace sas::discovery {
namespace {

using json = nlohmann::json;

std::string Errno(const std::string& path, const char* what, int error) {
  return path + ": cannot " + what + ": " + std::strerror(error);
}

// fsync of a directory makes the names in it (creations, renames, removals)
// durable.
bool SyncDirectory(const std::string& directory, std::string* error) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *error = Errno(directory, "open", errno);
    return false;
  }
  int result = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (result != 0) {
    *error = Errno(directory, "fsync", saved);
    return false;
  }
  return true;
}

bool WriteAll(int fd, std::string_view data, std::string* error,
              const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = Errno(path, "write", errno);
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int OpenForAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
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

TaskJournal::TaskJournal(std::string path, JournalOptions options)
    : path_(std::move(path)),
      old_path_(path_ + ".old"),
      directory_(std::filesystem::path(path_).has_parent_path()
                     ? std::filesystem::path(path_).parent_path().string()
                     : "."),
      options_(std::move(options)) {}

TaskJournal::~TaskJournal() {
  if (fd_ >= 0) ::close(fd_);
}

bool TaskJournal::OpenLocked(std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  int fd = OpenForAppend(path_);
  if (fd < 0) {
    *error = Errno(path_, "open", errno);
    return false;
  }
  if (!SyncDirectory(directory_, error)) {
    ::close(fd);
    return false;
  }
  struct stat status {};
  ::fstat(fd, &status);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  bytes_ = static_cast<size_t>(status.st_size);
  broken_ = false;
  return true;
}

bool TaskJournal::Open(size_t keep_bytes, std::string* error) {
  std::unique_lock lock(mutex_);
  WaitForNoWriter(lock);
  if (!OpenLocked(error)) return false;
  if (bytes_ > keep_bytes) {
    if (::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0 ||
        ::fsync(fd_) != 0) {
      *error = Errno(path_, "cut the torn last line from", errno);
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
  if (::unlink(old_path_.c_str()) == 0) {
    if (!SyncDirectory(directory_, error)) return false;
  } else if (errno != ENOENT) {
    *error = Errno(old_path_, "delete", errno);
    return false;
  }
  std::string temporary = path_ + ".tmp";
  int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = Errno(temporary, "create", errno);
    return false;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path_.c_str()) != 0) {
    *error = Errno(path_, "replace", errno);
    ::unlink(temporary.c_str());
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
  std::error_code ec;
  if (std::filesystem::exists(old_path_, ec)) {
    *error = old_path_ + " exists: the last compaction did not finish";
    return false;
  }
  if (fd_ < 0 && !OpenLocked(error)) return false;
  if (::rename(path_.c_str(), old_path_.c_str()) != 0) {
    *error = Errno(path_, "rename", errno);
    return false;
  }
  if (!OpenLocked(error)) {
    // Appending continues in the renamed file until a rotation succeeds.
    if (::rename(old_path_.c_str(), path_.c_str()) != 0) broken_ = true;
    return false;
  }
  return true;
}

bool TaskJournal::DropOld(std::string* error) {
  if (::unlink(old_path_.c_str()) != 0) {
    if (errno == ENOENT) return true;
    *error = Errno(old_path_, "delete", errno);
    return false;
  }
  return SyncDirectory(directory_, error);
}

bool TaskJournal::has_old() const {
  std::error_code ec;
  return std::filesystem::exists(old_path_, ec);
}

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
    bool ok = !broken_ && (fd_ >= 0 || OpenLocked(&why));
    if (!ok && why.empty()) why = failure_;
    int fd = fd_;
    size_t good_bytes = bytes_;
    lock.unlock();
    bool cut = true;
    bool synced = ok;
    if (ok) {
      ok = WriteAll(fd, batch, &why, path_);
      if (ok) {
        int sync_error = options_.sync ? options_.sync(fd)
                                       : (::fdatasync(fd) == 0 ? 0 : errno);
        if (sync_error != 0) {
          why = Errno(path_, "flush", sync_error);
          ok = false;
        }
      }
      if (!ok) {
        cut = ::ftruncate(fd, static_cast<off_t>(good_bytes)) == 0 &&
              ::fdatasync(fd) == 0;
      }
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
