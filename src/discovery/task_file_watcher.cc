#include "discovery/task_file_watcher.h"

#include <set>

#include "util/file_system.h"
#include "util/log.h"

namespace sas::discovery {
namespace {

// Task files larger than this are refused (as broken files).
constexpr size_t kMaxTaskFileBytes = 16 << 20;

}  // namespace

TaskFileWatcher::TaskFileWatcher(
    const FileSystem& fs, std::vector<std::string> patterns,
    TaskRegistry& registry,
    std::function<void(const std::string& file)> on_error)
    : fs_(fs),
      registry_(registry),
      on_error_(std::move(on_error)),
      patterns_(std::move(patterns)) {}

TaskFileWatcher::~TaskFileWatcher() { Stop(); }

void TaskFileWatcher::Scan() {
  std::lock_guard scan_lock(scan_mutex_);
  std::set<std::string> present;
  for (const std::string& pattern : patterns_) {
    for (const std::string& path : fs_.Glob(pattern)) {
      FileInfo info;
      if (!fs_.Stat(path, &info).ok() || !info.regular) continue;
      present.insert(path);
      Seen now{info.size, info.mtime_ns, info.inode};
      Seen& before = seen_[path];
      if (before.size == now.size && before.mtime_ns == now.mtime_ns &&
          before.inode == now.inode) {
        continue;
      }
      before = now;
      FileReadResult read = fs_.ReadFile(path, kMaxTaskFileBytes);
      std::vector<TaskEntry> entries;
      std::string error;
      if (!read.ok) {
        error = path + ": cannot read: " + read.error;
      } else if (ParseTaskFile(read.content, path, &entries, &error)) {
        for (const std::string& problem :
             registry_.Replace("file:" + path, entries)) {
          log::Warn("Task file entry skipped",
                    {{"file", path}, {"err", problem}});
        }
        log::Info("Task file loaded",
                  {{"file", path}, {"tasks", std::to_string(entries.size())}});
        continue;
      }
      log::Error("Task file is broken; keeping its last good content",
                 {{"file", path}, {"err", error}});
      if (on_error_) on_error_(path);
    }
  }
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    registry_.Replace("file:" + it->first, {});
    log::Info("Task file gone; its tasks are no longer tracked",
              {{"file", it->first}});
    it = seen_.erase(it);
  }
}

void TaskFileWatcher::SetPatterns(std::vector<std::string> patterns) {
  {
    std::lock_guard scan_lock(scan_mutex_);
    patterns_ = std::move(patterns);
    for (auto& [path, seen] : seen_) seen = Seen{};
  }
  Scan();
}

void TaskFileWatcher::Start(Millis period) {
  Scan();
  worker_ = std::make_unique<PeriodicWorker>(period, [this] { Scan(); });
}

void TaskFileWatcher::Stop() { worker_.reset(); }

}  // namespace sas::discovery
