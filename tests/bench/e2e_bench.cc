// End-to-end benchmark: the exporter polling N tasks on the simulator, both
// real processes on loopback. Prints exporter CPU per poll and resident
// memory per task. Run: make bench  (or build/tests/bench/e2e_bench)
//   e2e_bench [cpu_tasks=1000] [cpu_window_seconds=20] [memory_tasks=10000]
//             [cpu_poll_interval=5s]

#include <httplib.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "bench/bench_support.h"

namespace {

using sas::bench::ResidentBytes;
using sas::bench::Run;
using sas::bench::StartRun;
using sas::testing::FindSample;

// The floor under the exporter's figure: the CPU one bare cpp-httplib
// keep-alive client spends per request to the simulator at the same
// spacing, measured on this thread (getrusage RUSAGE_THREAD).
double BareClientMicrosPerRequest(int port, int requests,
                                  std::chrono::microseconds spacing) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  auto cpu = [] {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
           (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  double before = cpu();
  for (int i = 0; i < requests; ++i) {
    if (!client.Get("/_simulator/stats")) return -1;
    std::this_thread::sleep_for(spacing);
  }
  return (cpu() - before) / requests * 1e6;
}

double Sample(const std::string& metrics, const std::string& prefix) {
  return FindSample(metrics, prefix).value_or(-1);
}

}  // namespace

int main(int argc, char** argv) {
  int cpu_tasks = argc > 1 ? std::atoi(argv[1]) : 1000;
  int window = argc > 2 ? std::atoi(argv[2]) : 20;
  int memory_tasks = argc > 3 ? std::atoi(argv[3]) : 10000;
  std::string interval = argc > 4 ? argv[4] : "5s";

  {
    Run run = StartRun(cpu_tasks, interval);
    std::string before = run.exporter->Metrics();
    auto started = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(window));
    std::string after = run.exporter->Metrics();
    double elapsed = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    double cpu = Sample(after, "process_cpu_seconds_total") -
                 Sample(before, "process_cpu_seconds_total");
    double requests =
        Sample(after, "aliyun_sas_api_requests_total{account=\"bench\"") -
        Sample(before, "aliyun_sas_api_requests_total{account=\"bench\"");
    std::printf(
        "cpu: %d tasks, poll_interval %s, %.1f s window: %.0f requests "
        "(%.1f/s), %.3f CPU s -> %.1f us CPU per poll\n",
        cpu_tasks, interval.c_str(), elapsed, requests, requests / elapsed, cpu,
        requests > 0 ? cpu / requests * 1e6 : -1);
    auto spacing = std::chrono::microseconds(
        static_cast<int64_t>(elapsed / requests * 1e6));
    std::printf(
        "floor: a bare cpp-httplib client, one request every %lld us: %.1f us "
        "CPU per request\n",
        static_cast<long long>(spacing.count()),
        BareClientMicrosPerRequest(run.sim->port(), 1000, spacing));
  }
  {
    Run baseline = StartRun(1, "30s");
    double base_rss = ResidentBytes(baseline.exporter->process().pid());
    baseline = Run{};
    Run run = StartRun(memory_tasks, "30s");
    double rss = ResidentBytes(run.exporter->process().pid());
    std::printf(
        "memory: 1 task %.1f MiB, %d tasks %.1f MiB -> %.0f bytes per task\n",
        base_rss / 1048576, memory_tasks, rss / 1048576,
        (rss - base_rss) / (memory_tasks - 1));
    auto started = std::chrono::steady_clock::now();
    std::string page = run.exporter->Metrics();
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - started)
                    .count();
    std::printf("scrape: %d tasks, %zu bytes in %.1f ms (HTTP round trip)\n",
                memory_tasks, page.size(), ms);
    std::printf("memory after the scrape: %.1f MiB\n",
                ResidentBytes(run.exporter->process().pid()) / 1048576);
  }
  return 0;
}
