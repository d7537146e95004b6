#include "metrics/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "metrics/text_format.h"

namespace sas::metrics {
namespace {

std::optional<std::string> ReadWhole(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void AppendSimple(std::string& out, std::string_view name,
                  std::string_view help, std::string_view type, double value) {
  AppendHeader(out, name, help, type);
  out += name;
  out += ' ';
  AppendValue(out, value);
  out += '\n';
}

}  // namespace

std::optional<ProcessStats> ReadProcessStats() {
  auto stat = ReadWhole("/proc/self/stat");
  auto system_stat = ReadWhole("/proc/stat");
  if (!stat || !system_stat) return std::nullopt;
  // Fields after the command name, which is in parentheses and may contain
  // spaces: start at the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat->substr(close + 2));
  std::vector<std::string> values;
  for (std::string field; fields >> field;) values.push_back(field);
  // values[0] is field 3 (state); utime is field 14, stime 15, starttime 22,
  // vsize 23, rss 24.
  if (values.size() < 22) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessStats stats;
  try {
    stats.cpu_seconds = (std::stod(values[11]) + std::stod(values[12])) / ticks;
    double start_ticks = std::stod(values[19]);
    stats.virtual_memory_bytes = std::stod(values[20]);
    stats.resident_memory_bytes = std::stod(values[21]) * page;
    double boot_time = 0;
    std::istringstream lines(*system_stat);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
    }
    stats.start_time_seconds = boot_time + start_ticks / ticks;
  } catch (...) {
    return std::nullopt;
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int count = 0;
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    stats.open_fds = count - 1;  // the directory stream's own descriptor
  }
  if (auto limits = ReadWhole("/proc/self/limits")) {
    std::istringstream lines(*limits);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("Max open files", 0) == 0) {
        std::istringstream words(line.substr(14));
        std::string soft;
        words >> soft;
        try {
          stats.max_fds = std::stod(soft);
        } catch (...) {
        }
      }
    }
  }
  return stats;
}

void AppendProcessMetrics(const ProcessStats& stats, std::string& out) {
  AppendSimple(out, "process_cpu_seconds_total",
               "Total user and system CPU time spent in seconds.", "counter",
               stats.cpu_seconds);
  AppendSimple(out, "process_resident_memory_bytes",
               "Resident memory size in bytes.", "gauge",
               stats.resident_memory_bytes);
  AppendSimple(out, "process_virtual_memory_bytes",
               "Virtual memory size in bytes.", "gauge",
               stats.virtual_memory_bytes);
  AppendSimple(out, "process_open_fds", "Number of open file descriptors.",
               "gauge", stats.open_fds);
  AppendSimple(out, "process_max_fds",
               "Maximum number of open file descriptors.", "gauge",
               stats.max_fds);
  AppendSimple(out, "process_start_time_seconds",
               "Start time of the process since unix epoch in seconds.",
               "gauge", stats.start_time_seconds);
}

}  // namespace sas::metrics
