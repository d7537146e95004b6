#pragma once

#include <optional>
#include <string>

namespace sas::metrics {

// The standard process collector's values, read from /proc on Linux.
struct ProcessStats {
  double cpu_seconds = 0;
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;
};

// Reads /proc/self/{stat,fd,limits} and /proc/stat; nullopt off Linux or on
// a read failure.
std::optional<ProcessStats> ReadProcessStats();

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds.
void AppendProcessMetrics(const ProcessStats& stats, std::string& out);

}  // namespace sas::metrics
