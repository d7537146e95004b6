// `make soak`: the real exporter against the real simulator for a long run
// (default 30 minutes; --minutes or SOAK_MINUTES), under the churn a busy
// installation sees: tasks registered and deleted through the task API all
// the time (a few hundred live), a configuration reload every minute
// (alternating two valid configurations), simulator faults switching on and
// off every 30 s, and a scrape of /metrics every second. Every 10 s it
// samples the exporter's resident memory and open descriptors, and probes
// /-/ready as a kubelet would.
//
// It passes (exit 0) when, at the end:
//   - after the warm-up (the first 20 % of the samples), memory and
//     descriptors are flat: the highest VmRSS of the last quarter of the
//     remaining samples is at most 10 % above the highest of its first
//     quarter, and the highest descriptor count at most kFdSlack above;
//   - every registration the API acknowledged (201 or 200) and that was not
//     deleted is listed by GET /api/v1/tasks, and every deletion of such a
//     task answered 204;
//   - every scrape, reload and task API call answered as it should (200,
//     201/200, 204), /-/ready never went back to 503 once it answered 200,
//     and the exporter still answers /-/healthy and /-/ready at the end.
// Otherwise it prints what failed and exits 1. Either way it prints a
// summary table and the samples.

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.h"

namespace sas::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kExportIds = 1000;    // the simulator knows ids 1..kExportIds
constexpr size_t kLowTasks = 250;   // churn keeps the live tasks between
constexpr size_t kHighTasks = 400;  // these two counts
constexpr milliseconds kChurnEvery{100};
constexpr seconds kScrapeEvery{1};
constexpr seconds kSampleEvery{10};
constexpr seconds kReloadEvery{60};
constexpr seconds kFaultEvery{30};
constexpr double kRssGrowthAllowed = 0.10;
constexpr long kFdSlack = 4;

std::string Scenario() {
  std::string scenario = "[simulator]\nseed = 7\n\n";
  for (int id = 1; id <= kExportIds; ++id) {
    // A quarter finish at once, the rest progress through the run.
    scenario += "[[export]]\nid = " + std::to_string(id) + "\nduration = \"" +
                (id % 4 == 0 ? "0s" : "40m") + "\"\n";
  }
  return scenario;
}

// Two valid configurations that differ where a reload has work to do: the
// poll interval and a second account with a task of its own.
std::string Config(const Simulator& sim, bool variant) {
  std::string account_options =
      "endpoint = \"" + sim.url() +
      "\"\nmax_requests_per_second = 400\n[account.credentials]\n"
      "access_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n\n";
  std::string config = std::string("[exporter]\npoll_interval = \"") +
                       (variant ? "3s" : "2s") +
                       "\"\nrequest_timeout = \"2s\"\nconnect_timeout = "
                       "\"1s\"\nmax_retries = 1\n\n[[account]]\nname = "
                       "\"sim\"\n" +
                       account_options;
  if (variant) {
    config += "[[account]]\nname = \"standby\"\n" + account_options +
              "[[task]]\naccount = \"standby\"\nexport_id = 1\n";
  }
  return config;
}

// The faults switched on in turn, each for 15 s.
const std::vector<std::string>& FaultQueries() {
  static const std::vector<std::string> kFaults = {
      "kind=error&duration=15s",
      "kind=throttle&duration=15s&retry_after=500ms",
      "kind=latency&latency=500ms&duration=15s",
      "kind=reset&duration=15s",
      "kind=truncate&duration=15s",
      "kind=clock_skew&skew=20m&duration=15s",
      "kind=error&status=500&code=InternalError&duration=15s"};
  return kFaults;
}

struct Sample {
  double at_seconds = 0;
  long rss_kib = -1;
  long fds = -1;
  size_t live_tasks = 0;
};

long OpenFds(int pid) {
  std::error_code error;
  long count = 0;
  for (std::filesystem::directory_iterator it(
           "/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator();
       it.increment(error)) {
    ++count;
  }
  return error ? -1 : count;
}

// Counts of what happened, and the failures, by kind.
struct Tally {
  std::mutex mutex;
  std::map<std::string, long> counts;
  std::vector<std::string> failures;

  void Count(const std::string& what) {
    std::lock_guard lock(mutex);
    ++counts[what];
  }
  void Fail(const std::string& what) {
    std::lock_guard lock(mutex);
    ++counts["failures"];
    if (failures.size() < 50) failures.push_back(what);
  }
};

std::string Status(const httplib::Result& result) {
  return result ? std::to_string(result->status)
                : "no answer (" + httplib::to_string(result.error()) + ")";
}

// The highest value of `field` among samples [begin, end).
long MaxOf(const std::vector<Sample>& samples, size_t begin, size_t end,
           long Sample::*field) {
  long most = -1;
  for (size_t i = begin; i < end && i < samples.size(); ++i) {
    most = std::max(most, samples[i].*field);
  }
  return most;
}

int Run(double minutes) {
  const auto run_for = std::chrono::duration_cast<milliseconds>(
      std::chrono::duration<double, std::ratio<60>>(minutes));
  Simulator sim(Scenario());
  TempDir storage;
  Exporter exporter(
      Config(sim, false), {},
      {"--log.level", "info", "--web.enable-task-api", "--web.enable-lifecycle",
       "--storage.path", storage.path()});
  const int pid = exporter.process().pid();
  std::printf("soak: %.1f min; exporter pid %d on port %d, simulator %s\n",
              minutes, pid, exporter.port(), sim.url().c_str());
  std::fflush(stdout);

  Tally tally;
  std::atomic<bool> stop{false};
  long slowest_scrape_ms = 0;
  std::thread scraper([&] {
    httplib::Client client("127.0.0.1", exporter.port());
    client.set_read_timeout(10, 0);
    auto next = SteadyClock::now();
    while (!stop) {
      auto started = SteadyClock::now();
      auto result = client.Get("/metrics");
      long took =
          std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started)
              .count();
      slowest_scrape_ms = std::max(slowest_scrape_ms, took);
      tally.Count("scrapes");
      if (!result || result->status != 200) {
        tally.Fail("scrape answered " + Status(result));
      }
      next += kScrapeEvery;
      std::this_thread::sleep_until(next);
    }
  });

  httplib::Client api("127.0.0.1", exporter.port());
  api.set_read_timeout(10, 0);
  httplib::Client control("127.0.0.1", sim.port());
  control.set_read_timeout(5, 0);
  std::mt19937 random(42);
  std::set<int> live;       // acknowledged and not deleted
  std::set<int> uncertain;  // a registration or deletion without an answer
  std::vector<Sample> samples;
  bool variant = false;
  bool was_ready = false;
  size_t fault_index = 0;

  const auto start = SteadyClock::now();
  auto next_sample = start;
  auto next_reload = start + kReloadEvery;
  auto next_fault = start + kFaultEvery / 2;
  auto next_churn = start;
  while (SteadyClock::now() - start < run_for) {
    auto now = SteadyClock::now();
    if (now >= next_sample) {
      // Probed as a kubelet does: once ready, it must stay ready.
      auto ready = api.Get("/-/ready");
      if (ready && ready->status == 200) {
        was_ready = true;
      } else if (was_ready) {
        tally.Fail("/-/ready answered " + Status(ready) + " after 200");
      }
      samples.push_back({std::chrono::duration<double>(now - start).count(),
                         ResidentKib(pid), OpenFds(pid), live.size()});
      next_sample += kSampleEvery;
    }
    if (now >= next_reload) {
      variant = !variant;
      exporter.dir().Write("exporter.toml", Config(sim, variant));
      auto result = api.Post("/-/reload", "", "text/plain");
      tally.Count("reloads");
      if (!result || result->status != 200) {
        tally.Fail("reload answered " + Status(result) +
                   (result ? ": " + result->body : ""));
      }
      next_reload += kReloadEvery;
    }
    if (now >= next_fault) {
      const std::string& query =
          FaultQueries()[fault_index++ % FaultQueries().size()];
      auto result = control.Post("/_simulator/faults?" + query, "",
                                 "application/x-www-form-urlencoded");
      tally.Count("faults");
      if (!result || result->status / 100 != 2) {
        tally.Fail("fault " + query + " answered " + Status(result));
      }
      next_fault += kFaultEvery;
    }
    bool add = live.size() < kLowTasks ||
               (live.size() < kHighTasks && random() % 2 == 0);
    if (add) {
      int id = static_cast<int>(random() % kExportIds) + 1;
      if (!live.contains(id) && !uncertain.contains(id)) {
        auto result =
            api.Post("/api/v1/tasks",
                     nlohmann::json{{"account", "sim"},
                                    {"export_id", id},
                                    {"name", "soak " + std::to_string(id)}}
                         .dump(),
                     "application/json");
        tally.Count("registrations");
        if (result && (result->status == 201 || result->status == 200)) {
          live.insert(id);
        } else {
          if (!result) uncertain.insert(id);
          tally.Fail("registering " + std::to_string(id) + " answered " +
                     Status(result) + (result ? ": " + result->body : ""));
        }
      }
    } else if (!live.empty()) {
      auto it = live.begin();
      std::advance(it, random() % live.size());
      int id = *it;
      auto result = api.Delete("/api/v1/tasks/sim/" + std::to_string(id));
      tally.Count("deletions");
      if (result && result->status == 204) {
        live.erase(it);
      } else {
        if (!result) {
          live.erase(it);
          uncertain.insert(id);
        }
        tally.Fail("deleting " + std::to_string(id) + " answered " +
                   Status(result) + (result ? ": " + result->body : ""));
      }
    }
    next_churn += kChurnEvery;
    std::this_thread::sleep_until(std::min(next_churn, next_sample));
  }
  samples.push_back(
      {std::chrono::duration<double>(SteadyClock::now() - start).count(),
       ResidentKib(pid), OpenFds(pid), live.size()});
  stop = true;
  scraper.join();
  control.Delete("/_simulator/faults");

  // No acknowledged registration lost.
  auto listed = api.Get("/api/v1/tasks");
  size_t lost = 0;
  if (!listed || listed->status != 200) {
    tally.Fail("GET /api/v1/tasks answered " + Status(listed));
  } else {
    std::set<int> present;
    auto document = nlohmann::json::parse(listed->body, nullptr, false);
    if (document.is_object() && document["tasks"].is_array()) {
      for (const auto& task : document["tasks"]) {
        if (task.value("account", "") == "sim") {
          present.insert(task.value("export_id", 0));
        }
      }
    }
    for (int id : live) {
      if (!present.contains(id)) {
        ++lost;
        tally.Fail("registered task sim/" + std::to_string(id) +
                   " is missing from GET /api/v1/tasks");
      }
    }
  }
  for (const char* path : {"/-/healthy", "/-/ready"}) {
    auto result = api.Get(path);
    if (!result || result->status != 200) {
      tally.Fail(std::string(path) + " answered " + Status(result) +
                 " at the end");
    }
  }

  // Flat after warm-up: compare the first and the last quarter of the
  // samples that follow the first 20 %.
  size_t warm = samples.size() / 5;
  size_t quarter = std::max<size_t>(1, (samples.size() - warm) / 4);
  long rss_first = MaxOf(samples, warm, warm + quarter, &Sample::rss_kib);
  long rss_last = MaxOf(samples, samples.size() - quarter, samples.size(),
                        &Sample::rss_kib);
  long fds_first = MaxOf(samples, warm, warm + quarter, &Sample::fds);
  long fds_last =
      MaxOf(samples, samples.size() - quarter, samples.size(), &Sample::fds);
  if (samples.size() < 5) {
    tally.Fail("too few samples (" + std::to_string(samples.size()) +
               ") to judge memory and descriptors: run at least a minute");
  } else {
    if (rss_first <= 0 || fds_first <= 0) {
      tally.Fail("could not read /proc/" + std::to_string(pid));
    }
    if (rss_last > rss_first * (1 + kRssGrowthAllowed)) {
      tally.Fail("resident memory grew: last quarter max " +
                 std::to_string(rss_last) + " KiB > first quarter max " +
                 std::to_string(rss_first) + " KiB + 10 %");
    }
    if (fds_last > fds_first + kFdSlack) {
      tally.Fail("open descriptors grew: last quarter max " +
                 std::to_string(fds_last) + " > first quarter max " +
                 std::to_string(fds_first) + " + " + std::to_string(kFdSlack));
    }
  }

  std::printf("\n%10s %10s %6s %6s\n", "t (s)", "VmRSS KiB", "fds", "tasks");
  for (size_t i = 0; i < samples.size(); ++i) {
    std::printf("%10.0f %10ld %6ld %6zu%s\n", samples[i].at_seconds,
                samples[i].rss_kib, samples[i].fds, samples[i].live_tasks,
                i < warm ? "  (warm-up)" : "");
  }
  auto count = [&](const char* what) { return tally.counts[what]; };
  std::printf("\n%-34s %s\n", "check", "result");
  std::printf("%-34s %.1f min\n", "duration", minutes);
  std::printf("%-34s %ld (slowest %ld ms)\n", "scrapes", count("scrapes"),
              slowest_scrape_ms);
  std::printf("%-34s %ld\n", "registrations sent", count("registrations"));
  std::printf("%-34s %ld\n", "deletions sent", count("deletions"));
  std::printf("%-34s %zu (lost %zu, unanswered %zu)\n", "live tasks at the end",
              live.size(), lost, uncertain.size());
  std::printf("%-34s %ld\n", "reloads", count("reloads"));
  std::printf("%-34s %ld\n", "faults switched on", count("faults"));
  std::printf("%-34s %ld -> %ld KiB (limit +10 %%)\n",
              "VmRSS max, first -> last quarter", rss_first, rss_last);
  std::printf("%-34s %ld -> %ld (limit +%ld)\n",
              "fds max, first -> last quarter", fds_first, fds_last, kFdSlack);
  std::printf("%-34s %ld\n", "failures", count("failures"));
  for (const std::string& failure : tally.failures) {
    std::printf("  FAIL: %s\n", failure.c_str());
  }
  bool passed = count("failures") == 0;
  std::printf("soak: %s\n", passed ? "PASS" : "FAIL");
  exporter.process().Signal(SIGTERM);
  std::optional<int> exit_status = exporter.process().Wait();
  if (exit_status != 0) {
    std::printf("soak: FAIL: the exporter exited with %d at SIGTERM\n",
                exit_status.value_or(-1));
    passed = false;
  }
  if (!passed) {
    std::string output = exporter.process().output();
    if (output.size() > 4000) output = output.substr(output.size() - 4000);
    std::printf("\nthe exporter's last output:\n%s\n", output.c_str());
  }
  return passed ? 0 : 1;
}

}  // namespace
}  // namespace sas::testing

int main(int argc, char** argv) {
  double minutes = 30;
  if (const char* env = std::getenv("SOAK_MINUTES"); env && *env) {
    minutes = std::atof(env);
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--minutes") minutes = std::atof(argv[i + 1]);
  }
  if (!(minutes > 0)) {
    std::fprintf(stderr, "usage: %s [--minutes N] (or SOAK_MINUTES=N)\n",
                 argv[0]);
    return 2;
  }
  try {
    return sas::testing::Run(minutes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak: FAIL: %s\n", e.what());
    return 1;
  }
}
