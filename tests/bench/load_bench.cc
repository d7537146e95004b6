// Load benchmark: /metrics under wrk (Debian's wrk) while the exporter polls
// N simulated tasks on loopback. Prints wrk's latency distribution and
// throughput, with and without Accept-Encoding: gzip, and fails when wrk
// saw any error or non-2xx answer.
// Run: make bench  (or build/tests/bench/load_bench)
//   load_bench [tasks=10000] [seconds=30] [connections=8]
//              [poll_interval=60s]

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_support.h"

namespace {

// Runs wrk against `url` and prints its report; false when wrk failed or
// reported errors or answers other than 2xx.
bool Wrk(const std::string& url, int seconds, int connections,
         const std::vector<std::string>& headers, const std::string& label) {
  std::vector<std::string> argv = {
      "/usr/bin/wrk",  "--latency",
      "--threads",     "2",
      "--connections", std::to_string(connections),
      "--duration",    std::to_string(seconds) + "s",
      "--timeout",     "10s"};
  for (const std::string& header : headers) {
    argv.push_back("--header");
    argv.push_back(header);
  }
  argv.push_back(url);
  sas::testing::Process wrk(argv);
  std::optional<int> status = wrk.Wait(sas::testing::Seconds(seconds + 60));
  std::string report = wrk.output();
  std::printf("== %s\n%s\n", label.c_str(), report.c_str());
  bool clean = report.find("Socket errors") == std::string::npos &&
               report.find("Non-2xx") == std::string::npos &&
               report.find("Requests/sec") != std::string::npos;
  return status == 0 && clean;
}

}  // namespace

int main(int argc, char** argv) {
  int tasks = argc > 1 ? std::atoi(argv[1]) : 10000;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 30;
  int connections = argc > 3 ? std::atoi(argv[3]) : 8;
  std::string poll_interval = argc > 4 ? argv[4] : "60s";

  sas::bench::Run run = sas::bench::StartRun(tasks, poll_interval);
  const pid_t pid = run.exporter->process().pid();
  const std::string url =
      "http://127.0.0.1:" + std::to_string(run.exporter->port()) + "/metrics";
  std::printf(
      "load: %d tasks polled every %s; wrk, 2 threads, %d connections, %d s "
      "each way\n",
      tasks, poll_interval.c_str(), connections, seconds);
  double cpu = sas::bench::ProcessCpuSeconds(pid);
  bool ok = Wrk(url, seconds, connections, {"Accept-Encoding: gzip"},
                "Accept-Encoding: gzip (as Prometheus scrapes)");
  std::printf("exporter CPU meanwhile: %.2f s of %d s\n\n",
              sas::bench::ProcessCpuSeconds(pid) - cpu, seconds);
  cpu = sas::bench::ProcessCpuSeconds(pid);
  ok = Wrk(url, seconds, connections, {}, "no Accept-Encoding (text)") && ok;
  std::printf("exporter CPU meanwhile: %.2f s of %d s\n",
              sas::bench::ProcessCpuSeconds(pid) - cpu, seconds);
  std::printf("memory afterwards: %.1f MiB\n",
              sas::bench::ResidentBytes(pid) / 1048576);
  if (!ok) std::printf("load: wrk saw errors\n");
  return ok ? 0 : 1;
}
