#pragma once

#include <map>
#include <string>

namespace sas {

struct FileReadResult {
  bool ok = false;
  std::string content;
  // Why the read failed ("No such file or directory"); empty when ok.
  std::string error;
};

// The file seam: configuration, secret files and (later) state files are
// read through it so tests need no real files. Thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Reads a whole file, refusing files larger than max_bytes.
  virtual FileReadResult ReadFile(const std::string& path,
                                  size_t max_bytes = 16 << 20) const = 0;
  // True when users other than the owner may read the file (mode & 044).
  virtual bool IsReadableByOthers(const std::string& path) const = 0;
};

// The real file system.
const FileSystem& LocalFileSystem();

// Files held in memory, for tests. Paths are plain map keys.
class MemoryFileSystem : public FileSystem {
 public:
  FileReadResult ReadFile(const std::string& path,
                          size_t max_bytes = 16 << 20) const override;
  bool IsReadableByOthers(const std::string& path) const override;
  void Add(const std::string& path, const std::string& content,
           bool readable_by_others = false);

 private:
  struct File {
    std::string content;
    bool readable_by_others;
  };
  std::map<std::string, File> files_;
};

}  // namespace sas
