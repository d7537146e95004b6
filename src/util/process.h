#pragma once

// Running another program: the seam through which credentials come from an
// external command (the aliyun CLI's `External` profile mode).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/duration.h"

namespace sas {

// How a Run ended.
struct ProcessResult {
  enum class End {
    kExited,      // exited by itself; exit_code is its status
    kSignalled,   // killed by a signal it did not get from us; see signal
    kTimedOut,    // still running at the timeout; killed
    kTooMuch,     // wrote more than max_output to stdout or stderr; killed
    kCancelled,   // CancelAll; killed
    kNotStarted,  // could not be started; see error
  };
  End end = End::kNotStarted;
  int exit_code = -1;       // kExited only
  int signal = 0;           // kSignalled only
  std::string stdout_text;  // at most max_output bytes
  std::string stderr_text;  // at most max_output bytes
  std::string error;        // kNotStarted: why ("No such file or directory")
};

// Runs programs. Implementations are thread-safe.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;

  // Runs argv[0] (looked up on PATH when it has no '/') with arguments
  // argv, without a shell, stdin /dev/null, the exporter's environment,
  // no other inherited descriptor, in a process group of its own. Blocks
  // until it ends; after `timeout`, or when it has written more than
  // max_output bytes to either stream, kills the group (SIGKILL). argv
  // must not be empty.
  virtual ProcessResult Run(const std::vector<std::string>& argv,
                            Millis timeout, size_t max_output) = 0;

  // Kills what Run is waiting for (within 100 ms) and makes every later Run
  // end at once with kCancelled (shutdown).
  virtual void CancelAll() = 0;
};

// The real thing (posix_spawn).
std::unique_ptr<ProcessRunner> MakeSystemProcessRunner();

// Splits a command line into words as a POSIX shell does, without any
// expansion: whitespace separates words; '...' keeps everything literally;
// "..." keeps everything but \" \\ \$ \` and backslash-newline; outside
// quotes a backslash keeps the next character, and backslash-newline joins
// lines. False with *error on an unterminated quote or nothing but
// whitespace. Operators (| ; > $(...)) are not special: they are literal
// parts of words.
bool SplitCommandLine(std::string_view line, std::vector<std::string>* words,
                      std::string* error);

}  // namespace sas
