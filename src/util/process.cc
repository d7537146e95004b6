#include "util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

extern char** environ;

namespace sas {
namespace {

// How often a Run looks at the cancel flag.
constexpr int kPollSliceMs = 100;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

class SystemProcessRunner : public ProcessRunner {
 public:
  ProcessResult Run(const std::vector<std::string>& argv, Millis timeout,
                    size_t max_output) override {
    ProcessResult result;
    if (cancelled_.load()) {
      result.end = ProcessResult::End::kCancelled;
      return result;
    }
    if (argv.empty()) {
      result.error = "empty command";
      return result;
    }
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
      result.error = std::strerror(errno);
      return result;
    }
    Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
      result.error = std::strerror(errno);
      return result;
    }
    Fd err_read(err_pipe[0]), err_write(err_pipe[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setpgroup(&attributes, 0);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP |
                                              POSIX_SPAWN_SETSIGDEF |
                                              POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> args;
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    int spawned = ::posix_spawnp(&pid, args[0], &actions, &attributes,
                                 args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    out_write.Close();
    err_write.Close();
    if (spawned != 0) {
      result.error = std::strerror(spawned);
      return result;
    }

    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<ProcessResult::End> killed;
    Fd* streams[2] = {&out_read, &err_read};
    std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
    while ((out_read.get() >= 0 || err_read.get() >= 0) && !killed) {
      auto now = std::chrono::steady_clock::now();
      if (cancelled_.load()) {
        killed = ProcessResult::End::kCancelled;
        break;
      }
      if (now >= deadline) {
        killed = ProcessResult::End::kTimedOut;
        break;
      }
      int wait_ms = static_cast<int>(std::min<int64_t>(
          kPollSliceMs,
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)
                  .count() +
              1));
      pollfd fds[2];
      int count = 0;
      int index_of[2];
      for (int i = 0; i < 2; ++i) {
        if (streams[i]->get() < 0) continue;
        fds[count] = {streams[i]->get(), POLLIN, 0};
        index_of[count++] = i;
      }
      int ready = ::poll(fds, count, wait_ms);
      if (ready < 0 && errno != EINTR) break;
      for (int k = 0; k < count && ready > 0; ++k) {
        if (fds[k].revents == 0) continue;
        int i = index_of[k];
        char buffer[4096];
        ssize_t n = ::read(streams[i]->get(), buffer, sizeof(buffer));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
          streams[i]->Close();
          continue;
        }
        if (sinks[i]->size() + static_cast<size_t>(n) > max_output) {
          sinks[i]->append(buffer, max_output - sinks[i]->size());
          killed = ProcessResult::End::kTooMuch;
          break;
        }
        sinks[i]->append(buffer, static_cast<size_t>(n));
      }
    }
    if (killed) ::kill(-pid, SIGKILL);

    // Both streams are closed: the process is ending or has ended. Reap it,
    // still bounded by the deadline and the cancel flag.
    int status = 0;
    while (true) {
      pid_t done = ::waitpid(pid, &status, killed ? 0 : WNOHANG);
      if (done == pid) break;
      if (done < 0 && errno != EINTR) break;
      if (!killed) {
        if (cancelled_.load()) {
          killed = ProcessResult::End::kCancelled;
        } else if (std::chrono::steady_clock::now() >= deadline) {
          killed = ProcessResult::End::kTimedOut;
        }
        if (killed) {
          ::kill(-pid, SIGKILL);
        } else {
          ::usleep(10'000);
        }
      }
    }
    if (killed) {
      result.end = *killed;
    } else if (WIFEXITED(status)) {
      result.end = ProcessResult::End::kExited;
      result.exit_code = WEXITSTATUS(status);
    } else {
      result.end = ProcessResult::End::kSignalled;
      result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    return result;
  }

  void CancelAll() override { cancelled_.store(true); }

 private:
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<ProcessRunner> MakeSystemProcessRunner() {
  return std::make_unique<SystemProcessRunner>();
}

bool SplitCommandLine(std::string_view line, std::vector<std::string>* words,
                      std::string* error) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  size_t i = 0;
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  while (i < line.size()) {
    char c = line[i];
    if (is_space(c)) {
      if (in_word) out.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 < line.size() && line[i + 1] == '\n') {
        i += 2;  // a line continuation
        continue;
      }
      in_word = true;
      if (i + 1 < line.size()) word += line[i + 1];
      i += 2;
      continue;
    }
    if (c == '\'') {
      size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) {
        *error = "unterminated ' quote";
        return false;
      }
      word.append(line.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
      continue;
    }
    if (c == '"') {
      in_word = true;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char d = line[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < line.size()) {
          char next = line[i + 1];
          if (next == '\n') {
            i += 2;
            continue;
          }
          if (next == '"' || next == '\\' || next == '$' || next == '`') {
            word += next;
            i += 2;
            continue;
          }
        }
        word += d;
        ++i;
      }
      if (!closed) {
        *error = "unterminated \" quote";
        return false;
      }
      continue;
    }
    word += c;
    in_word = true;
    ++i;
  }
  if (in_word) out.push_back(std::move(word));
  if (out.empty()) {
    *error = "the command is empty";
    return false;
  }
  *words = std::move(out);
  return true;
}

}  // namespace sas
