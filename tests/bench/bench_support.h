#pragma once

// What the end-to-end benchmarks share: the exporter polling N simulated
// tasks, resident memory and CPU time of a process read from /proc, and
// quantiles.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/harness.h"

namespace sas::bench {

// The simulator with `tasks` exports (ids 1..tasks, each exporting 100,000
// entries over 10 hours) and the exporter polling all of them every
// `poll_interval` (a duration as the configuration spells it).
// The exporter keeps its state file in `storage`, so no run starts with the
// memory of another.
struct Run {
  std::unique_ptr<testing::TempDir> storage;
  std::unique_ptr<testing::Simulator> sim;
  std::unique_ptr<testing::Exporter> exporter;
};
// Returns once the exporter is ready (every task polled once); exits the
// program when it is not within ten minutes.
Run StartRun(int tasks, const std::string& poll_interval);

// VmRSS of a process in bytes, read from /proc (not from /metrics: the
// scrape's own page would be counted); -1 when unreadable.
double ResidentBytes(pid_t pid);

// CPU time of every thread of a process so far, in seconds
// (/proc/<pid>/task/*/schedstat, nanosecond resolution).
double ProcessCpuSeconds(pid_t pid);

// The q-quantile (0..1) of samples, nearest rank; -1 when empty.
double Quantile(std::vector<double> samples, double q);

inline double Millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace sas::bench
