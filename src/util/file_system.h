#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sas {

// Why a file operation failed.
enum class FileError {
  kNone,      // it did not
  kNotFound,  // the file, or a directory on its path, does not exist
  kTooLarge,  // ReadFile: larger than max_bytes
  kNotAFile,  // ReadFile: a directory
  kOther,     // anything else (permissions, I/O, a full disk): see the text
};

// The outcome of an operation on a file. Callers name the file and the
// operation; `message` only says why ("No such file or directory").
struct FileStatus {
  FileError error = FileError::kNone;
  std::string message;  // empty when ok()

  bool ok() const { return error == FileError::kNone; }
  // kNotFound for ENOENT, kOther for any other errno value, with strerror
  // as the message.
  static FileStatus FromErrno(int error_number);
};

struct FileReadResult {
  bool ok = false;
  std::string content;
  // Why the read failed ("No such file or directory"); empty when ok.
  std::string error;
  // kNone when ok.
  FileError kind = FileError::kNone;
};

// What Stat tells about a file.
struct FileInfo {
  bool regular = false;  // a regular file, not a directory or device
  int64_t size = 0;      // bytes
  int64_t mtime_ns = 0;  // last modification, nanoseconds since the epoch
  uint64_t inode = 0;    // changes when the file is replaced by another
};

// A file open for writing at its end, closed at destruction. Not
// thread-safe: one caller at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file.
  virtual FileStatus Append(std::string_view data) = 0;
  // Makes what was written (and the size) durable: fdatasync.
  virtual FileStatus Sync() = 0;
  // Cuts the file to `size` bytes; later appends go after them.
  virtual FileStatus Truncate(size_t size) = 0;
  // The size of the file in bytes.
  virtual size_t Size() const = 0;
};

// The file seam: configuration, secret files, the state file, task files
// and the task API's storage go through it, so tests can use files held in
// memory and inject failures. Thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Reads a whole file, refusing files larger than max_bytes.
  virtual FileReadResult ReadFile(const std::string& path,
                                  size_t max_bytes = 16 << 20) const = 0;
  // True when users other than the owner may read the file (mode & 044).
  virtual bool IsReadableByOthers(const std::string& path) const = 0;
  // True when something exists under `path`.
  virtual bool Exists(const std::string& path) const = 0;
  virtual FileStatus Stat(const std::string& path, FileInfo* info) const = 0;
  // The paths that match a glob(7) pattern, in no particular order; none
  // when the pattern cannot be expanded.
  virtual std::vector<std::string> Glob(const std::string& pattern) const = 0;

  // Opens `path` for appending (mode 0600 when it is created); `truncate`
  // empties it first. Creating a file is durable only after
  // SyncDirectory of its directory.
  virtual FileStatus OpenForAppend(const std::string& path, bool truncate,
                                   std::unique_ptr<WritableFile>* file) = 0;
  // Replaces `to` with `from` atomically (rename(2)); durable after
  // SyncDirectory.
  virtual FileStatus Rename(const std::string& from, const std::string& to) = 0;
  // Deletes a file; kNotFound when there is none. Durable after
  // SyncDirectory.
  virtual FileStatus RemoveFile(const std::string& path) = 0;
  // Creates a directory and its parents; ok when it exists already.
  virtual FileStatus CreateDirectories(const std::string& path) = 0;
  // Makes the names in `directory` (creations, renames, removals) durable.
  virtual FileStatus SyncDirectory(const std::string& directory) = 0;
};

// The real file system.
FileSystem& LocalFileSystem();

// The directory `path` is in: "." when it names none.
std::string DirectoryOf(const std::string& path);

}  // namespace sas
