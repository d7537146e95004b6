#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/file_system.h"

namespace sas::testing {

// Files held in memory. Paths are plain map keys; directories exist
// implicitly (CreateDirectories and SyncDirectory always succeed), and Glob
// matches keys with fnmatch(3). An open WritableFile follows its file
// through renames, as a file descriptor does. Every write bumps the file's
// mtime_ns; each file created gets a new inode. Thread-safe.
class MemoryFileSystem : public FileSystem {
 public:
  MemoryFileSystem();
  ~MemoryFileSystem() override;

  FileReadResult ReadFile(const std::string& path,
                          size_t max_bytes = 16 << 20) const override;
  bool IsReadableByOthers(const std::string& path) const override;
  bool Exists(const std::string& path) const override;
  FileStatus Stat(const std::string& path, FileInfo* info) const override;
  std::vector<std::string> Glob(const std::string& pattern) const override;
  FileStatus OpenForAppend(const std::string& path, bool truncate,
                           std::unique_ptr<WritableFile>* file) override;
  FileStatus Rename(const std::string& from, const std::string& to) override;
  FileStatus RemoveFile(const std::string& path) override;
  FileStatus CreateDirectories(const std::string& path) override;
  FileStatus SyncDirectory(const std::string& directory) override;

  // Creates or replaces a file.
  void Add(const std::string& path, const std::string& content,
           bool readable_by_others = false);
  // Every path, sorted.
  std::vector<std::string> Paths() const;

 private:
  struct File;
  class OpenFile;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::map<std::string, std::shared_ptr<File>> files_;
  uint64_t next_inode_ = 1;
  int64_t clock_ns_ = 0;
};

}  // namespace sas::testing
