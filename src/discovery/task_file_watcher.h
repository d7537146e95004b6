#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "discovery/task_registry.h"
#include "util/duration.h"
#include "util/file_system.h"
#include "util/periodic_worker.h"

namespace sas::discovery {

// Task files, the way Prometheus' file_sd works: every `period` the glob
// patterns are expanded and each file whose size, modification time or inode
// changed is re-read. A file that parses replaces what it named before; a
// broken file keeps its last good content, is logged with file and position,
// and reported to on_error; a file that disappears takes its tasks with it.
// Files are found and read through `fs`, which must outlive the watcher.
// Thread-safe.
class TaskFileWatcher {
 public:
  TaskFileWatcher(const FileSystem& fs, std::vector<std::string> patterns,
                  TaskRegistry& registry,
                  std::function<void(const std::string& file)> on_error);
  ~TaskFileWatcher();

  // One pass over the patterns, in the calling thread.
  void Scan();
  // Replaces the patterns (a configuration reload) and scans at once,
  // re-reading every file: files no longer matched take their tasks with
  // them, and entries skipped before (an account not configured then) are
  // tried again.
  void SetPatterns(std::vector<std::string> patterns);
  // Scans now, then every `period` in a background thread.
  void Start(Millis period);
  void Stop();

 private:
  struct Seen {
    int64_t size = -1;
    int64_t mtime_ns = -1;
    uint64_t inode = 0;
  };

  const FileSystem& fs_;
  TaskRegistry& registry_;
  const std::function<void(const std::string&)> on_error_;
  std::mutex scan_mutex_;
  // Guarded by scan_mutex_.
  std::vector<std::string> patterns_;
  std::map<std::string, Seen> seen_;

  std::unique_ptr<PeriodicWorker> worker_;
};

}  // namespace sas::discovery
