#include "util/atomic_file.h"

#include <unistd.h>

#include <chrono>
#include <memory>

namespace sas {

bool WriteFileAtomically(FileSystem& fs, const std::string& path,
                         const std::string& content, std::string* error) {
  std::string directory = DirectoryOf(path);
  fs.CreateDirectories(directory);
  std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  std::unique_ptr<WritableFile> file;
  FileStatus status = fs.OpenForAppend(temporary, /*truncate=*/true, &file);
  if (!status.ok()) {
    *error = temporary + ": cannot create: " + status.message;
    return false;
  }
  const char* failed = nullptr;
  if (status = file->Append(content); !status.ok()) {
    failed = "write";
  } else if (status = file->Sync(); !status.ok()) {
    failed = "fsync";
  }
  file.reset();
  if (failed != nullptr) {
    *error = temporary + ": cannot " + failed + ": " + status.message;
    fs.RemoveFile(temporary);
    return false;
  }
  if (status = fs.Rename(temporary, path); !status.ok()) {
    *error = path + ": cannot replace: " + status.message;
    fs.RemoveFile(temporary);
    return false;
  }
  fs.SyncDirectory(directory);
  return true;
}

std::string SetAside(FileSystem& fs, const std::string& path,
                     std::string* error) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  std::string aside = path + ".broken-" + std::to_string(seconds);
  for (int i = 1; fs.Exists(aside); ++i) {
    aside =
        path + ".broken-" + std::to_string(seconds) + "-" + std::to_string(i);
  }
  if (FileStatus status = fs.Rename(path, aside); !status.ok()) {
    *error = path + ": cannot set aside: " + status.message;
    return "";
  }
  return aside;
}

}  // namespace sas
