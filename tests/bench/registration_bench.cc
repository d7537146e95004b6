// Registration benchmark: N task registrations through the task API from C
// parallel clients against the real exporter (storage in a scratch
// directory, every answer durable), while /metrics is scraped every 100 ms.
// Prints the total time and the /metrics latency meanwhile.
// Run: make bench  (or build/tests/bench/registration_bench)
//   registration_bench [tasks=10000] [clients=8]

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.h"

namespace {

using sas::testing::Exporter;
using sas::testing::Seconds;
using sas::testing::Simulator;
using sas::testing::TempDir;
using sas::testing::WaitUntil;
using Clock = std::chrono::steady_clock;
using sas::bench::Millis;
using sas::bench::Quantile;

}  // namespace

int main(int argc, char** argv) {
  int tasks = argc > 1 ? std::atoi(argv[1]) : 10000;
  int clients = argc > 2 ? std::atoi(argv[2]) : 8;

  std::string scenario;
  for (int id = 1; id <= tasks; ++id) {
    scenario += "[[export]]\nid = " + std::to_string(id) +
                "\nduration = \"10h\"\ntotal_count = 100000\n";
  }
  Simulator sim(scenario);
  TempDir dir;
  // The default poll interval and request rate: polling the new tasks goes
  // on in the background as it would in production.
  std::string config =
      "[exporter]\nmax_tasks = " + std::to_string(std::max(tasks, 10000)) +
      "\n\n[[account]]\nname = \"bench\"\nendpoint = \"" + sim.url() +
      "\"\n[account.credentials]\naccess_key_id = \"AKID\"\n"
      "access_key_secret = \"SECRET\"\n";
  Exporter exporter(config, {},
                    {"--web.enable-task-api", "--storage.path",
                     dir.path() + "/data", "--log.level", "info"});
  if (!WaitUntil([&] { return exporter.Get("/-/ready").first == 200; },
                 Seconds(60))) {
    std::fprintf(stderr, "exporter never became ready\n");
    return 1;
  }
  const int port = exporter.port();

  std::atomic<bool> done{false};
  std::vector<double> scrapes;
  // Scrapes every 100 ms over a kept-alive connection, as Prometheus does.
  std::thread scraper([&] {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    while (!done) {
      auto started = Clock::now();
      auto answer = client.Get("/metrics");
      if (answer && answer->status == 200) {
        scrapes.push_back(Millis(Clock::now() - started));
      }
      std::this_thread::sleep_until(started + std::chrono::milliseconds(100));
    }
  });

  std::mutex mutex;
  std::vector<double> latencies;
  std::atomic<int> failures{0};
  auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      // A new connection per request, like curl from a script.
      httplib::Client client("127.0.0.1", port);
      std::vector<double> mine;
      for (int id = 1 + c; id <= tasks; id += clients) {
        auto sent = Clock::now();
        auto answer = client.Post("/api/v1/tasks",
                                  "{\"account\": \"bench\", \"export_id\": " +
                                      std::to_string(id) + "}",
                                  "application/json");
        mine.push_back(Millis(Clock::now() - sent));
        if (!answer || answer->status != 201) ++failures;
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& thread : threads) thread.join();
  double total = Millis(Clock::now() - started) / 1000;
  done = true;
  scraper.join();

  // For comparison: the same scrape with every task registered and nothing
  // else going on.
  std::vector<double> idle;
  {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    for (int i = 0; i < 20; ++i) {
      auto sent = Clock::now();
      if (client.Get("/metrics")) idle.push_back(Millis(Clock::now() - sent));
    }
  }

  auto list = exporter.Get("/api/v1/tasks");
  size_t listed = 0;
  if (list.first == 200)
    listed = nlohmann::json::parse(list.second)["tasks"].size();
  auto size_of = [&](const std::string& name) -> long long {
    std::error_code ec;
    auto size = std::filesystem::file_size(dir.path() + "/data/" + name, ec);
    return ec ? -1 : static_cast<long long>(size);
  };

  std::printf(
      "registrations: %d from %d clients in %.2f s (%.0f/s), %d failed; "
      "%zu tasks listed afterwards\n",
      tasks, clients, total, tasks / total, failures.load(), listed);
  std::printf("request latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              Quantile(latencies, 0.5), Quantile(latencies, 0.99),
              Quantile(latencies, 1));
  std::printf(
      "/metrics meanwhile: %zu scrapes, p50 %.1f ms, p99 %.1f ms, max %.1f "
      "ms\n",
      scrapes.size(), Quantile(scrapes, 0.5), Quantile(scrapes, 0.99),
      Quantile(scrapes, 1));
  std::printf("/metrics afterwards, idle: p50 %.1f ms\n", Quantile(idle, 0.5));
  std::printf("storage: tasks.json %lld bytes, tasks.journal %lld bytes\n",
              size_of("tasks.json"), size_of("tasks.journal"));
  return failures == 0 && listed == static_cast<size_t>(tasks) ? 0 : 1;
}
