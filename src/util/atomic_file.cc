#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace sas {

bool WriteFileAtomically(const std::string& path, const std::string& content,
                         std::string* error) {
  std::filesystem::path target(path);
  std::filesystem::path directory =
      target.has_parent_path() ? target.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = temporary + ": cannot create: " + std::strerror(errno);
    return false;
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = temporary + ": cannot write: " + std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    *error = temporary + ": cannot fsync: " + std::strerror(errno);
    ::close(fd);
    ::unlink(temporary.c_str());
    return false;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    *error = path + ": cannot replace: " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

std::string SetAside(const std::string& path, std::string* error) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  std::string aside = path + ".broken-" + std::to_string(seconds);
  for (int i = 1; std::filesystem::exists(aside); ++i) {
    aside =
        path + ".broken-" + std::to_string(seconds) + "-" + std::to_string(i);
  }
  if (::rename(path.c_str(), aside.c_str()) != 0) {
    *error = path + ": cannot set aside: " + std::strerror(errno);
    return "";
  }
  return aside;
}

}  // namespace sas
