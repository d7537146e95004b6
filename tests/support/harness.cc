#include "support/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace sas::testing {

Process::Process(std::vector<std::string> argv, std::vector<std::string> env,
                 std::string stdin_data)
    : argv0_(argv.at(0)) {
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0 || pipe(in_pipe) != 0) {
    throw std::runtime_error("pipe failed");
  }
  // `env` entries replace variables of the same name; "NAME" without "="
  // removes one.
  std::vector<std::string> environment;
  auto name_of = [](const std::string& entry) {
    return entry.substr(0, entry.find('='));
  };
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    bool replaced = false;
    for (const std::string& override_entry : env) {
      if (name_of(override_entry) == name_of(entry)) replaced = true;
    }
    if (!replaced) environment.push_back(std::move(entry));
  }
  for (std::string& entry : env) {
    if (entry.find('=') != std::string::npos) {
      environment.push_back(std::move(entry));
    }
  }

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1],
                   in_pipe[0], in_pipe[1]}) {
      close(fd);
    }
    // Die with the test.
    setpgid(0, 0);
    std::vector<char*> args, envp;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (std::string& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(in_pipe[0]);
  if (!stdin_data.empty()) {
    ssize_t unused = write(in_pipe[1], stdin_data.data(), stdin_data.size());
    (void)unused;
  }
  close(in_pipe[1]);
  readers_.emplace_back([this, fd = out_pipe[0]] { Pump(fd, true); });
  readers_.emplace_back([this, fd = err_pipe[0]] { Pump(fd, false); });
}

Process::~Process() {
  if (!exit_status_) {
    kill(pid_, SIGTERM);
    if (!Wait(Seconds(10))) {
      kill(pid_, SIGKILL);
      Wait(Seconds(10));
    }
  }
  for (std::thread& reader : readers_) reader.join();
  if (std::string report = SanitizerReport(output_); !report.empty()) {
    ADD_FAILURE() << "sanitizer report from " << argv0_ << ":\n" << report;
  }
}

std::string SanitizerReport(const std::string& output) {
  size_t first = std::string::npos;
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                             "runtime error:", "WARNING: ThreadSanitizer",
                             "ERROR: ThreadSanitizer"}) {
    first = std::min(first, output.find(marker));
  }
  if (first == std::string::npos) return "";
  size_t line = output.rfind('\n', first);
  constexpr size_t kMaxReport = 16 * 1024;
  return output.substr(line == std::string::npos ? 0 : line + 1, kMaxReport);
}

void Process::Pump(int fd, bool is_stdout) {
  char buffer[4096];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    output_.append(buffer, static_cast<size_t>(n));
    if (is_stdout) stdout_.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
}

std::optional<std::string> Process::WaitForOutput(const std::string& text,
                                                  Seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      auto pos = output_.find(text);
      if (pos != std::string::npos) {
        auto begin = output_.rfind('\n', pos);
        begin = begin == std::string::npos ? 0 : begin + 1;
        auto end = output_.find('\n', pos);
        if (end != std::string::npos) return output_.substr(begin, end - begin);
      }
    }
    if (exit_status_) return std::nullopt;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ =
          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

void Process::Signal(int signal) {
  if (!exit_status_) kill(pid_, signal);
}

std::optional<int> Process::Wait(Seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (!exit_status_) {
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ =
          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Let the readers drain what the child wrote last.
  for (std::thread& reader : readers_) {
    if (reader.joinable()) reader.join();
  }
  readers_.clear();
  return exit_status_;
}

std::string Process::output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

std::string Process::stdout_text() const {
  std::lock_guard lock(mutex_);
  return stdout_;
}

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "sas-it-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name,
                           const std::string& content) const {
  std::string path = path_ + "/" + name;
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
  chmod(path.c_str(), 0600);
  return path;
}

long ResidentKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::string ExporterBinary() {
  return std::string(SAS_BINARY_DIR) + "/src/aliyun_sas_exporter";
}

std::string SimulatorBinary() {
  return std::string(SAS_BINARY_DIR) + "/src/simulator/aliyun_sas_simulator";
}

Simulator::Simulator(const std::string& scenario_toml,
                     std::vector<std::string> access_keys,
                     std::vector<std::string> extra_args) {
  std::string scenario = dir_.Write("scenario.toml", scenario_toml);
  std::vector<std::string> argv = {SimulatorBinary(), "--web.listen-address",
                                   "127.0.0.1:0", "--scenario.file", scenario};
  for (const std::string& key : access_keys) {
    argv.push_back("--access-key");
    argv.push_back(key);
  }
  for (std::string& arg : extra_args) argv.push_back(std::move(arg));
  process_ = std::make_unique<Process>(argv);
  auto line = process_->WaitForOutput("listening on ");
  if (!line) {
    throw std::runtime_error("simulator did not start: " + process_->output());
  }
  url_ = line->substr(line->find("listening on ") + 13);
  port_ = std::stoi(url_.substr(url_.rfind(':') + 1));
}

std::string Simulator::Stats() const { return Introspect("/_simulator/stats"); }

std::string Simulator::RequestLog() const {
  return Introspect("/_simulator/requests");
}

std::string Simulator::Introspect(const std::string& path) const {
  httplib::Client client("127.0.0.1", port_);
  if (url_.rfind("https", 0) == 0) return "";
  auto res = client.Get(path);
  return res ? res->body : "";
}

Exporter::Exporter(const std::string& config_toml, std::vector<std::string> env,
                   std::vector<std::string> extra_args) {
  std::string config = dir_.Write("exporter.toml", config_toml);
  std::vector<std::string> argv = {
      ExporterBinary(), "--config.file", config, "--web.listen-address",
      "127.0.0.1:0",    "--log.level",   "debug"};
  // A state file of its own unless the test shares one on purpose: the
  // default (./data) would carry task clocks between tests.
  if (std::find(extra_args.begin(), extra_args.end(), "--storage.path") ==
      extra_args.end()) {
    argv.insert(argv.end(), {"--storage.path", dir_.path() + "/data"});
  }
  for (std::string& arg : extra_args) argv.push_back(std::move(arg));
  process_ = std::make_unique<Process>(argv, std::move(env));
  auto line = process_->WaitForOutput("msg=Listening address=127.0.0.1:");
  if (!line) {
    throw std::runtime_error("exporter did not start: " + process_->output());
  }
  auto pos = line->find("address=127.0.0.1:") + 18;
  port_ = std::stoi(line->substr(pos));
}

std::pair<int, std::string> Exporter::Get(
    const std::string& path, std::map<std::string, std::string> headers) const {
  httplib::Client client("127.0.0.1", port_);
  client.set_decompress(false);
  httplib::Headers h(headers.begin(), headers.end());
  auto res = client.Get(path, h);
  if (!res) return {0, ""};
  return {res->status, res->body};
}

std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> samples;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

std::optional<double> FindSample(const std::string& exposition,
                                 const std::string& prefix) {
  for (const auto& [series, value] : ParseExposition(exposition)) {
    if (series.rfind(prefix, 0) == 0) return value;
  }
  return std::nullopt;
}

bool WaitForSample(const Exporter& exporter, const std::string& prefix,
                   const std::function<bool(double)>& ok, Seconds timeout) {
  return WaitUntil(
      [&] {
        std::optional<double> value = FindSample(exporter.Metrics(), prefix);
        return value && ok(*value);
      },
      timeout);
}

}  // namespace sas::testing
