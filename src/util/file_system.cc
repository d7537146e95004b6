#include "util/file_system.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sas {
namespace {

class LocalFs : public FileSystem {
 public:
  FileReadResult ReadFile(const std::string& path,
                          size_t max_bytes) const override {
    FileReadResult result;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      result.error = std::strerror(errno);
      return result;
    }
    if (S_ISDIR(st.st_mode)) {
      result.error = "is a directory";
      return result;
    }
    if (static_cast<size_t>(st.st_size) > max_bytes) {
      result.error = "larger than " + std::to_string(max_bytes) + " bytes";
      return result;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      result.error = std::strerror(errno);
      return result;
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
      result.error = "read error";
      return result;
    }
    result.ok = true;
    result.content = std::move(content).str();
    return result;
  }

  bool IsReadableByOthers(const std::string& path) const override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
  }
};

}  // namespace

const FileSystem& LocalFileSystem() {
  static LocalFs fs;
  return fs;
}

FileReadResult MemoryFileSystem::ReadFile(const std::string& path,
                                          size_t max_bytes) const {
  FileReadResult result;
  auto it = files_.find(path);
  if (it == files_.end()) {
    result.error = "No such file or directory";
  } else if (it->second.content.size() > max_bytes) {
    result.error = "larger than " + std::to_string(max_bytes) + " bytes";
  } else {
    result.ok = true;
    result.content = it->second.content;
  }
  return result;
}

bool MemoryFileSystem::IsReadableByOthers(const std::string& path) const {
  auto it = files_.find(path);
  return it != files_.end() && it->second.readable_by_others;
}

void MemoryFileSystem::Add(const std::string& path, const std::string& content,
                           bool readable_by_others) {
  files_[path] = File{content, readable_by_others};
}

}  // namespace sas
