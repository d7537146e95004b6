#pragma once

// Runs the real programs as child processes over loopback, for integration
// tests: the simulator, the exporter, promtool. Every wait has a deadline.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/wait.h"

namespace sas::testing {

// A child process whose stdout and stderr are collected in the background.
// A sanitizer report in its output (see SanitizerReport) fails the running
// test when the Process is destroyed.
class Process {
 public:
  // Starts argv[0] with the arguments in a copy of this process's
  // environment, where `env` entries "NAME=value" set a variable and "NAME"
  // unsets it.
  Process(std::vector<std::string> argv, std::vector<std::string> env = {},
          std::string stdin_data = "");
  // Ends a child that still runs with SIGTERM, so that it shuts down as in
  // production and LeakSanitizer checks it at exit; SIGKILL when it has not
  // exited within 10 s (Scaled).
  ~Process();

  // Waits until stdout+stderr contain `text`; returns the whole line
  // containing it, or nullopt at the deadline (Scaled) or when the child
  // exits.
  std::optional<std::string> WaitForOutput(const std::string& text,
                                           Seconds timeout = Seconds(20));
  // Sends a signal.
  void Signal(int signal);
  // Waits for exit; returns the exit status (128+signal when killed), or
  // nullopt at the deadline (Scaled).
  std::optional<int> Wait(Seconds timeout = Seconds(20));

  std::string output() const;  // stdout and stderr so far, interleaved
  std::string stdout_text() const;
  pid_t pid() const { return pid_; }

 private:
  void Pump(int fd, bool is_stdout);

  const std::string argv0_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  mutable std::mutex mutex_;
  std::string output_;
  std::string stdout_;
  std::vector<std::thread> readers_;
};

// The first sanitizer report in a program's output (AddressSanitizer,
// LeakSanitizer, UndefinedBehaviorSanitizer, ThreadSanitizer), from its
// first line on, or "" when there is none.
std::string SanitizerReport(const std::string& output);

// A scratch directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes a file (mode 0600) and returns its path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// A process's resident memory (VmRSS) in KiB, or -1 when unreadable.
long ResidentKib(pid_t pid);

std::string ExporterBinary();
std::string SimulatorBinary();

// The simulator on 127.0.0.1 with a scenario and key pairs "ID:SECRET".
class Simulator {
 public:
  Simulator(const std::string& scenario_toml,
            std::vector<std::string> access_keys = {"AKID:SECRET"},
            std::vector<std::string> extra_args = {});
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  // GET /_simulator/stats as JSON text (the caller parses).
  std::string Stats() const;
  // GET /_simulator/requests, the request log, as JSON text.
  std::string RequestLog() const;
  Process& process() { return *process_; }

 private:
  // "" over HTTPS or when the request fails.
  std::string Introspect(const std::string& path) const;
  TempDir dir_;
  std::unique_ptr<Process> process_;
  std::string url_;
  int port_ = 0;
};

// The exporter with a configuration, listening on 127.0.0.1:0.
class Exporter {
 public:
  explicit Exporter(const std::string& config_toml,
                    std::vector<std::string> env = {},
                    std::vector<std::string> extra_args = {});
  int port() const { return port_; }
  // GET path; returns (status, body); status 0 when the request failed.
  std::pair<int, std::string> Get(
      const std::string& path,
      std::map<std::string, std::string> headers = {}) const;
  std::string Metrics() const { return Get("/metrics").second; }
  Process& process() { return *process_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

// Parses a text exposition into "name{labels}" -> value (labels as written).
std::map<std::string, double> ParseExposition(const std::string& text);

// The value of the first series whose key starts with `prefix` (e.g.
// `aliyun_sas_export_up{account="a",export_id="1"`), or nullopt.
std::optional<double> FindSample(const std::string& exposition,
                                 const std::string& prefix);

// Waits until the first sample of the exporter's /metrics whose series
// starts with `prefix` exists and satisfies `ok`.
bool WaitForSample(const Exporter& exporter, const std::string& prefix,
                   const std::function<bool(double)>& ok,
                   Seconds timeout = Seconds(20));

}  // namespace sas::testing
