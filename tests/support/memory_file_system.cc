#include "support/memory_file_system.h"

#include <fnmatch.h>

namespace sas::testing {

struct MemoryFileSystem::File {
  std::string content;
  bool readable_by_others = false;
  uint64_t inode = 0;
  int64_t mtime_ns = 0;
};

class MemoryFileSystem::OpenFile : public WritableFile {
 public:
  OpenFile(MemoryFileSystem& fs, std::shared_ptr<File> file)
      : fs_(fs), file_(std::move(file)) {}

  FileStatus Append(std::string_view data) override {
    std::lock_guard lock(fs_.mutex_);
    file_->content.append(data);
    file_->mtime_ns = ++fs_.clock_ns_;
    return {};
  }
  FileStatus Sync() override { return {}; }
  FileStatus Truncate(size_t size) override {
    std::lock_guard lock(fs_.mutex_);
    file_->content.resize(size);
    file_->mtime_ns = ++fs_.clock_ns_;
    return {};
  }
  size_t Size() const override {
    std::lock_guard lock(fs_.mutex_);
    return file_->content.size();
  }

 private:
  MemoryFileSystem& fs_;
  const std::shared_ptr<File> file_;
};

namespace {

FileStatus NotFound() {
  return {FileError::kNotFound, "No such file or directory"};
}

}  // namespace

MemoryFileSystem::MemoryFileSystem() = default;
MemoryFileSystem::~MemoryFileSystem() = default;

FileReadResult MemoryFileSystem::ReadFile(const std::string& path,
                                          size_t max_bytes) const {
  std::lock_guard lock(mutex_);
  FileReadResult result;
  auto it = files_.find(path);
  if (it == files_.end()) {
    result.error = NotFound().message;
    result.kind = FileError::kNotFound;
  } else if (it->second->content.size() > max_bytes) {
    result.error = "larger than " + std::to_string(max_bytes) + " bytes";
    result.kind = FileError::kTooLarge;
  } else {
    result.ok = true;
    result.content = it->second->content;
  }
  return result;
}

bool MemoryFileSystem::IsReadableByOthers(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  return it != files_.end() && it->second->readable_by_others;
}

bool MemoryFileSystem::Exists(const std::string& path) const {
  std::lock_guard lock(mutex_);
  return files_.contains(path);
}

FileStatus MemoryFileSystem::Stat(const std::string& path,
                                  FileInfo* info) const {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound();
  info->regular = true;
  info->size = static_cast<int64_t>(it->second->content.size());
  info->mtime_ns = it->second->mtime_ns;
  info->inode = it->second->inode;
  return {};
}

std::vector<std::string> MemoryFileSystem::Glob(
    const std::string& pattern) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> paths;
  for (const auto& [path, file] : files_) {
    if (fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) ==
        0) {
      paths.push_back(path);
    }
  }
  return paths;
}

FileStatus MemoryFileSystem::OpenForAppend(
    const std::string& path, bool truncate,
    std::unique_ptr<WritableFile>* file) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<File>& entry = files_[path];
  if (!entry) {
    entry = std::make_shared<File>();
    entry->inode = next_inode_++;
    entry->mtime_ns = ++clock_ns_;
  } else if (truncate) {
    entry->content.clear();
    entry->mtime_ns = ++clock_ns_;
  }
  *file = std::make_unique<OpenFile>(*this, entry);
  return {};
}

FileStatus MemoryFileSystem::Rename(const std::string& from,
                                    const std::string& to) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(from);
  if (it == files_.end()) return NotFound();
  std::shared_ptr<File> file = std::move(it->second);
  files_.erase(it);
  files_[to] = std::move(file);
  return {};
}

FileStatus MemoryFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (files_.erase(path) == 0) return NotFound();
  return {};
}

FileStatus MemoryFileSystem::CreateDirectories(const std::string&) {
  return {};
}

FileStatus MemoryFileSystem::SyncDirectory(const std::string&) { return {}; }

void MemoryFileSystem::Add(const std::string& path, const std::string& content,
                           bool readable_by_others) {
  std::lock_guard lock(mutex_);
  auto file = std::make_shared<File>();
  file->content = content;
  file->readable_by_others = readable_by_others;
  file->inode = next_inode_++;
  file->mtime_ns = ++clock_ns_;
  files_[path] = std::move(file);
}

std::vector<std::string> MemoryFileSystem::Paths() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> paths;
  for (const auto& [path, file] : files_) paths.push_back(path);
  return paths;
}

}  // namespace sas::testing
