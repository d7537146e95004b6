#include "bench/bench_support.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sas::bench {

Run StartRun(int tasks, const std::string& poll_interval) {
  std::string scenario, task_config;
  for (int id = 1; id <= tasks; ++id) {
    scenario += "[[export]]\nid = " + std::to_string(id) +
                "\nduration = \"10h\"\ntotal_count = 100000\n";
    task_config +=
        "[[task]]\naccount = \"bench\"\nexport_id = " + std::to_string(id) +
        "\n";
  }
  Run run;
  run.storage = std::make_unique<testing::TempDir>();
  run.sim = std::make_unique<testing::Simulator>(scenario);
  std::string config = "[exporter]\npoll_interval = \"" + poll_interval +
                       "\"\nconcurrency = 4\nmax_tasks = " +
                       std::to_string(std::max(tasks, 10000)) +
                       "\n\n[[account]]\nname = \"bench\"\nendpoint = \"" +
                       run.sim->url() +
                       "\"\nmax_requests_per_second = 5000\n"
                       "[account.credentials]\naccess_key_id = \"AKID\"\n"
                       "access_key_secret = \"SECRET\"\n\n" +
                       task_config;
  run.exporter = std::make_unique<testing::Exporter>(
      config, std::vector<std::string>{},
      std::vector<std::string>{"--log.level", "info", "--storage.path",
                               run.storage->path()});
  if (!testing::WaitUntil(
          [&] { return run.exporter->Get("/-/ready").first == 200; },
          testing::Seconds(600))) {
    std::fprintf(stderr, "exporter never became ready\n");
    std::exit(1);
  }
  return run;
}

double ResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  }
  return -1;
}

double ProcessCpuSeconds(pid_t pid) {
  double nanos = 0;
  std::error_code ec;
  for (const auto& thread : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream schedstat(thread.path() / "schedstat");
    double on_cpu = 0;
    if (schedstat >> on_cpu) nanos += on_cpu;
  }
  return nanos / 1e9;
}

double Quantile(std::vector<double> samples, double q) {
  if (samples.empty()) return -1;
  std::sort(samples.begin(), samples.end());
  size_t rank = static_cast<size_t>(q * static_cast<double>(samples.size()));
  return samples[std::min(rank, samples.size() - 1)];
}

}  // namespace sas::bench
