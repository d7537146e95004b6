#pragma once

// The task API's journal: every registration and removal is appended to
// <storage>/tasks.journal, one JSON line each, and fsync'ed before it is
// answered; the journal is folded into <storage>/tasks.json from time to
// time (compaction), so a change costs the same whether 10 or 10,000 tasks
// are registered.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "discovery/task_entry.h"
#include "poll/task.h"
#include "util/file_system.h"

namespace sas::discovery {

// One change to the tasks registered through the API, as one journal line:
//   {"op":"add","task":{"account":"prod","export_id":7,"name":"n"}}
//   {"op":"remove","task":{"account":"prod","export_id":7}}
// The task object has the task file's format. An add sets the entry for its
// key, a remove deletes it (nothing when absent), whatever came before. So
// applying a journal to a snapshot that already includes any prefix of it
// gives the same tasks as applying it to the snapshot taken before it:
// compaction needs no sequence numbers in tasks.json.
struct JournalRecord {
  enum class Op { kAdd, kRemove };
  Op op = Op::kAdd;
  TaskEntry entry;  // for kRemove only the key fields are written
};

// The record as one line, '\n' included.
std::string JournalLine(const JournalRecord& record);

struct ReplayResult {
  bool ok = true;
  std::string error;  // "path:line: what is wrong" when !ok
  size_t records = 0;
  // Bytes up to and including the last '\n': where appending may resume.
  size_t complete_bytes = 0;
  // True when bytes after the last '\n' (a write cut short by a crash) were
  // ignored.
  bool torn_tail = false;
};

// Applies the records of journal `text` (read from `path`) to *tasks, in
// order. A last line without its '\n' is ignored and reported as torn_tail.
// Any other line that is not a valid record makes the result !ok, with
// *tasks unchanged.
ReplayResult ReplayJournal(std::string_view text, const std::string& path,
                           std::map<poll::TaskKey, TaskEntry>* tasks);

struct JournalOptions {
  // Makes the data written to `file` durable. Default file.Sync(). A seam
  // for tests that count or fail flushes.
  std::function<FileStatus(WritableFile& file)> sync;
};

// An append-only file of lines with group commit. Append() queues a line
// and returns its sequence number, without I/O; WaitDurable() returns once
// the line is written and flushed. The first waiter whose line is not yet
// durable becomes the writer: it writes everything queued with one write()
// and one flush, without holding the lock, while later callers queue behind
// it; when it is done, one of those writes the next batch. Lines reach the
// file in Append order.
//
// A failed write or flush fails its batch, everything queued behind it and
// every later Append until Recover(); the file is cut back to its last
// durable length. If even that fails the journal is broken(): every write
// fails until Reset().
//
// Two files: path() and old_path(), the previous journal while compaction
// folds it into the snapshot, both in `fs`, which must outlive the journal.
// Thread-safe.
class TaskJournal {
 public:
  TaskJournal(FileSystem& fs, std::string path, JournalOptions options = {});
  ~TaskJournal();
  TaskJournal(const TaskJournal&) = delete;
  TaskJournal& operator=(const TaskJournal&) = delete;

  // Opens path() for appending, creating it, and cuts it to keep_bytes (the
  // complete lines a replay found). Without Open the first write opens the
  // file as it is.
  bool Open(size_t keep_bytes, std::string* error);
  // Deletes old_path(), then replaces path() with an empty journal, each
  // step durable before the next (a crash between them leaves a state that
  // replays to the same tasks). Only when a snapshot durably holds every
  // record: requires nothing queued.
  bool Reset(std::string* error);
  // Renames path() to old_path() and starts an empty path(); both durable
  // before it returns. Requires nothing queued, no old_path() and !broken().
  bool Rotate(std::string* error);
  // Deletes old_path() (nothing when absent), durably.
  bool DropOld(std::string* error);
  bool has_old() const;

  // Queues `line` (which ends with '\n'); returns its sequence number,
  // counting from 1.
  uint64_t Append(std::string line);
  // The sequence number of the last Append (0 before any).
  uint64_t last_seq() const;
  // Every record up to here is in the file and flushed.
  uint64_t durable_seq() const;
  // Blocks until record `seq` is durable (true) or failed (false with
  // *error). Records 0..durable_seq() return at once.
  bool WaitDurable(uint64_t seq, std::string* error);
  // While a failure awaits Recover(): the first failed sequence number.
  // Every record from there to last_seq() failed.
  std::optional<uint64_t> failed_from() const;
  // Ends a failure: the records failed so far stay failed, later ones are
  // written again.
  void Recover();
  bool broken() const;

  // The size of path() in bytes, durable records only.
  size_t bytes() const;
  // Flushes so far.
  uint64_t syncs() const;
  const std::string& path() const { return path_; }
  const std::string& old_path() const { return old_path_; }

 private:
  // Requires mutex_ held and no writer.
  bool OpenLocked(std::string* error);
  bool Failed(uint64_t seq) const;
  void WaitForNoWriter(std::unique_lock<std::mutex>& lock);

  FileSystem& fs_;
  const std::string path_;
  const std::string old_path_;
  const std::string directory_;
  const JournalOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  // Guarded by mutex_.
  std::unique_ptr<WritableFile> file_;  // path(), once opened
  bool writing_ = false;  // a writer is writing a batch without the lock
  std::vector<std::string> queue_;  // lines not yet written, in order
  uint64_t queue_first_seq_ = 0;    // the sequence number of queue_[0]
  uint64_t next_seq_ = 1;
  uint64_t durable_seq_ = 0;
  size_t bytes_ = 0;
  uint64_t syncs_ = 0;
  std::optional<uint64_t> failed_from_;
  std::vector<std::pair<uint64_t, uint64_t>> failed_ranges_;  // recovered
  std::string failure_;
  bool broken_ = false;
};

}  // namespace sas::discovery
