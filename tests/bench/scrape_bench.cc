// Scrape benchmark: the exporter polling N simulated tasks on loopback,
// scraped as Prometheus scrapes it (kept-alive connection, Accept-Encoding:
// gzip) at a fixed spacing while the polls go on. Prints the round trip, the
// exporter's CPU per scrape and its resident memory after ten scrapes.
// Run: make bench  (or build/tests/bench/scrape_bench)
//   scrape_bench [tasks=10000] [scrapes=20] [poll_interval=60s]
//                [spacing_ms=1000]

#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "support/gzip.h"

namespace {

using Clock = std::chrono::steady_clock;
using sas::bench::Millis;
using sas::bench::ProcessCpuSeconds;
using sas::bench::Quantile;
using sas::bench::ResidentBytes;

struct Scrapes {
  std::vector<double> round_trips_ms;
  size_t bytes = 0;  // the last answer's body
  long long text_bytes = 0;
  double cpu_seconds = 0;  // the exporter's, polls included
  int failures = 0;
};

// `count` scrapes `spacing` apart over one kept-alive connection.
Scrapes Scrape(int port, pid_t exporter, int count, bool gzip,
               std::chrono::milliseconds spacing) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_decompress(false);
  httplib::Headers headers;
  if (gzip) headers.emplace("Accept-Encoding", "gzip");
  Scrapes result;
  double cpu_before = ProcessCpuSeconds(exporter);
  auto next = Clock::now();
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_until(next);
    next += spacing;
    auto sent = Clock::now();
    auto answer = client.Get("/metrics", headers);
    double ms = Millis(Clock::now() - sent);
    if (!answer || answer->status != 200 ||
        (gzip && answer->get_header_value("Content-Encoding") != "gzip")) {
      ++result.failures;
      continue;
    }
    result.round_trips_ms.push_back(ms);
    result.bytes = answer->body.size();
    if (gzip) {
      std::optional<std::string> text = sas::testing::Gunzip(answer->body);
      result.text_bytes = text ? static_cast<long long>(text->size()) : -1;
    } else {
      result.text_bytes = static_cast<long long>(answer->body.size());
    }
    if (result.text_bytes < 0) ++result.failures;
  }
  result.cpu_seconds = ProcessCpuSeconds(exporter) - cpu_before;
  return result;
}

// The exporter's CPU over `window` with nothing but polls going on.
double IdleCpuSeconds(pid_t exporter, std::chrono::milliseconds window) {
  double before = ProcessCpuSeconds(exporter);
  std::this_thread::sleep_for(window);
  return ProcessCpuSeconds(exporter) - before;
}

}  // namespace

int main(int argc, char** argv) {
  int tasks = argc > 1 ? std::atoi(argv[1]) : 10000;
  int count = argc > 2 ? std::atoi(argv[2]) : 20;
  std::string poll_interval = argc > 3 ? argv[3] : "60s";
  std::chrono::milliseconds spacing(argc > 4 ? std::atoi(argv[4]) : 1000);
  constexpr int kWarmUp = 10;

  // Memory per task: the exporter with one task, scraped ten times, against
  // the exporter with N tasks, scraped ten times.
  double base_rss;
  {
    sas::bench::Run base = sas::bench::StartRun(1, poll_interval);
    Scrape(base.exporter->port(), base.exporter->process().pid(), kWarmUp, true,
           std::chrono::milliseconds(0));
    base_rss = ResidentBytes(base.exporter->process().pid());
  }
  sas::bench::Run run = sas::bench::StartRun(tasks, poll_interval);
  const int port = run.exporter->port();
  const pid_t pid = run.exporter->process().pid();
  double rss_before = ResidentBytes(pid);
  Scrapes warm_up = Scrape(port, pid, kWarmUp, true, spacing);
  double rss = ResidentBytes(pid);

  auto window = spacing * count;
  double idle = IdleCpuSeconds(pid, window);
  Scrapes gzip = Scrape(port, pid, count, true, spacing);
  Scrapes plain = Scrape(port, pid, count, false, spacing);
  double rss_after = ResidentBytes(pid);
  auto per_scrape_ms = [&](const Scrapes& s) {
    return (s.cpu_seconds - idle) / count * 1000;
  };

  std::printf(
      "scrape: %d tasks polled every %s, a scrape every %lld ms, %d scrapes "
      "each way\n",
      tasks, poll_interval.c_str(), static_cast<long long>(spacing.count()),
      count);
  std::printf(
      "  gzip:  %lld bytes of text in %zu, round trip p50 %.1f ms, p90 %.1f "
      "ms, max %.1f ms; exporter CPU %.1f ms per scrape\n",
      gzip.text_bytes, gzip.bytes, Quantile(gzip.round_trips_ms, 0.5),
      Quantile(gzip.round_trips_ms, 0.9), Quantile(gzip.round_trips_ms, 1),
      per_scrape_ms(gzip));
  std::printf(
      "  plain: %zu bytes, round trip p50 %.1f ms, p90 %.1f ms, max %.1f ms; "
      "exporter CPU %.1f ms per scrape\n",
      plain.bytes, Quantile(plain.round_trips_ms, 0.5),
      Quantile(plain.round_trips_ms, 0.9), Quantile(plain.round_trips_ms, 1),
      per_scrape_ms(plain));
  std::printf(
      "  memory after %d scrapes: 1 task %.1f MiB, %d tasks %.1f MiB -> %.0f "
      "bytes per task (%.1f MiB before the first scrape, %.1f MiB after "
      "all)\n",
      kWarmUp, base_rss / 1048576, tasks, rss / 1048576,
      (rss - base_rss) / std::max(tasks - 1, 1), rss_before / 1048576,
      rss_after / 1048576);
  std::printf("  idle: exporter CPU %.1f ms per second (polls)\n",
              idle * 1000 / (static_cast<double>(window.count()) / 1000));
  int failures = warm_up.failures + gzip.failures + plain.failures;
  if (failures > 0) std::printf("  %d scrapes FAILED\n", failures);
  return failures == 0 ? 0 : 1;
}
