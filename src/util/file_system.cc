#include "util/file_system.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sas {
namespace {

FileStatus Errno() { return FileStatus::FromErrno(errno); }

class PosixWritableFile : public WritableFile {
 public:
  explicit PosixWritableFile(int fd) : fd_(fd) {}
  ~PosixWritableFile() override { ::close(fd_); }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  FileStatus Append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno();
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  FileStatus Sync() override {
    if (::fdatasync(fd_) != 0) return Errno();
    return {};
  }

  FileStatus Truncate(size_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno();
    return {};
  }

  size_t Size() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return 0;
    return static_cast<size_t>(st.st_size);
  }

 private:
  const int fd_;
};

class LocalFs : public FileSystem {
 public:
  FileReadResult ReadFile(const std::string& path,
                          size_t max_bytes) const override {
    FileReadResult result;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      FileStatus status = Errno();
      result.error = status.message;
      result.kind = status.error;
      return result;
    }
    if (S_ISDIR(st.st_mode)) {
      result.error = "is a directory";
      result.kind = FileError::kNotAFile;
      return result;
    }
    if (static_cast<size_t>(st.st_size) > max_bytes) {
      result.error = "larger than " + std::to_string(max_bytes) + " bytes";
      result.kind = FileError::kTooLarge;
      return result;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      FileStatus status = Errno();
      result.error = status.message;
      result.kind = status.error;
      return result;
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
      result.error = "read error";
      result.kind = FileError::kOther;
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

  bool Exists(const std::string& path) const override {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
  }

  FileStatus Stat(const std::string& path, FileInfo* info) const override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Errno();
    info->regular = S_ISREG(st.st_mode);
    info->size = static_cast<int64_t>(st.st_size);
    info->mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                     st.st_mtim.tv_nsec;
    info->inode = static_cast<uint64_t>(st.st_ino);
    return {};
  }

  std::vector<std::string> Glob(const std::string& pattern) const override {
    std::vector<std::string> paths;
    glob_t matches{};
    if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        paths.emplace_back(matches.gl_pathv[i]);
      }
    }
    globfree(&matches);
    return paths;
  }

  FileStatus OpenForAppend(const std::string& path, bool truncate,
                           std::unique_ptr<WritableFile>* file) override {
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
    if (truncate) flags |= O_TRUNC;
    int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) return Errno();
    *file = std::make_unique<PosixWritableFile>(fd);
    return {};
  }

  FileStatus Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno();
    return {};
  }

  FileStatus RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Errno();
    return {};
  }

  FileStatus CreateDirectories(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return {FileError::kOther, ec.message()};
    return {};
  }

  FileStatus SyncDirectory(const std::string& directory) override {
    int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno();
    FileStatus status;
    if (::fsync(fd) != 0) status = Errno();
    ::close(fd);
    return status;
  }
};

}  // namespace

FileStatus FileStatus::FromErrno(int error_number) {
  return {error_number == ENOENT ? FileError::kNotFound : FileError::kOther,
          std::strerror(error_number)};
}

FileSystem& LocalFileSystem() {
  static LocalFs fs;
  return fs;
}

std::string DirectoryOf(const std::string& path) {
  std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : ".";
}

}  // namespace sas
