// Everything that runs at once in production, at once and for a few
// seconds, against the real exporter: scrapes (plain and gzip), reloads
// (SIGHUP and POST /-/reload, with the file rewritten between them), task
// API registrations and removals, credential refreshes (STS credentials
// living 3 s) and polls every 100 ms. The test that matters under
// ThreadSanitizer (`make test-tsan`), whose reports from the exporter fail
// it through the harness.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/harness.h"

namespace sas::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kRole = "acs:ram::1234567890123456:role/reader";
// The task API's export ids: kApiClients ranges of kIdsPerClient from
// kFirstApiId, apart from the configured tasks' 1..4.
constexpr int kApiClients = 2;
constexpr long kFirstApiId = 100;
constexpr long kIdsPerClient = 12;

std::string ScenarioToml() {
  std::string scenario = std::string(R"(
[sts]
credential_lifetime = "3s"

[[role]]
arn = ")") + kRole + R"("
trusted_principals = ["AKID"]
)";
  auto add_export = [&](long id) {
    scenario +=
        "\n[[export]]\nid = " + std::to_string(id) + "\nduration = \"1h\"\n";
  };
  for (long id = 1; id <= 4; ++id) add_export(id);
  for (long id = kFirstApiId; id < kFirstApiId + kApiClients * kIdsPerClient;
       ++id) {
    add_export(id);
  }
  return scenario;
}

// Two accounts, "keys" (an AccessKey) and "role" (STS AssumeRole through
// the simulator, refreshed every 1.5 s); configured tasks `first` and
// `first` + 1 on each.
std::string ConfigToml(const Simulator& sim, long first) {
  std::string config =
      "[exporter]\npoll_interval = \"100ms\"\nconcurrency = 8\n"
      "request_timeout = \"5s\"\nconnect_timeout = \"2s\"\n";
  config += "\n[[account]]\nname = \"keys\"\nendpoint = \"" + sim.url() +
            "\"\nmax_requests_per_second = 1000\n[account.credentials]\n"
            "access_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n";
  config += "\n[[account]]\nname = \"role\"\nendpoint = \"" + sim.url() +
            "\"\nmax_requests_per_second = 1000\n[account.credentials]\n"
            "type = \"ram_role_arn\"\nrole_arn = \"" +
            std::string(kRole) +
            "\"\naccess_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n"
            "sts_endpoint = \"" +
            sim.url() + "\"\n";
  for (const char* account : {"keys", "role"}) {
    for (long id : {first, first + 1}) {
      config += "\n[[task]]\naccount = \"" + std::string(account) +
                "\"\nexport_id = " + std::to_string(id) + "\n";
    }
  }
  return config;
}

// Replaces the file in one step, so a reload never reads half of it.
void WriteAtomically(const std::string& path, const std::string& content) {
  std::string temporary = path + ".new";
  std::ofstream(temporary, std::ios::binary) << content;
  std::filesystem::rename(temporary, path);
}

std::string Up(const std::string& account, long export_id) {
  return "aliyun_sas_export_up{account=\"" + account +
         "\",action=\"DescribeExportInfo\",export_id=\"" +
         std::to_string(export_id) + "\",rd_account_id=\"\"}";
}

// Problems with a text exposition: a sample line that is not
// `name[{labels}] value`, or a value that is not a number.
std::string ExpositionProblem(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) return "no newline at the end";
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == std::string::npos || space == 0) return "bad line: " + line;
    std::string value = line.substr(space + 1);
    char* parsed_end = nullptr;
    std::strtod(value.c_str(), &parsed_end);
    if (value.empty() || *parsed_end != '\0') return "bad value: " + line;
    std::string series = line.substr(0, space);
    size_t brace = series.find('{');
    if (brace != std::string::npos && series.back() != '}') {
      return "bad labels: " + line;
    }
  }
  return "";
}

TEST(Concurrency, ScrapesReloadsTaskWritesRefreshesAndPollsAtOnce) {
  Simulator sim(ScenarioToml());
  TempDir storage;
  Exporter exporter(ConfigToml(sim, 1), {},
                    {"--web.enable-lifecycle", "--web.enable-task-api",
                     "--storage.path", storage.path()});
  ASSERT_TRUE(WaitUntil([&] {
    std::string metrics = exporter.Metrics();
    return FindSample(metrics, Up("keys", 1)) == 1 &&
           FindSample(metrics, Up("role", 1)) == 1;
  })) << exporter.process().output();
  const std::string config_path = exporter.dir().path() + "/exporter.toml";
  auto sim_requests = [&] {
    return nlohmann::json::parse(sim.Stats())["requests"].get<int>();
  };
  const int requests_before = sim_requests();

  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  auto running = [&] { return std::chrono::steady_clock::now() < until; };
  std::atomic<int> scrapes{0}, reloads{0}, api_changes{0};
  std::mutex mutex;
  std::vector<std::string> failures;  // guarded by mutex
  auto fail = [&](std::string what) {
    std::lock_guard lock(mutex);
    if (failures.size() < 20) failures.push_back(std::move(what));
  };
  // What the task API acknowledged last for each id: true registered
  // (201/200), false removed (204). Guarded by mutex.
  std::map<std::pair<std::string, long>, bool> acknowledged;

  std::vector<std::thread> threads;
  for (bool gzip : {false, true}) {
    threads.emplace_back([&, gzip] {
      httplib::Client client("127.0.0.1", exporter.port());
      client.set_decompress(false);
      client.set_read_timeout(10);
      httplib::Headers headers;
      if (gzip) headers.emplace("Accept-Encoding", "gzip");
      while (running()) {
        auto res = client.Get("/metrics", headers);
        if (!res || res->status != 200) {
          fail("scrape: " + (res ? std::to_string(res->status)
                                 : httplib::to_string(res.error())));
          continue;
        }
        if (gzip) {
          if (res->get_header_value("Content-Encoding") != "gzip" ||
              res->body.size() < 2 || res->body[0] != '\x1f' ||
              res->body[1] != '\x8b') {
            fail("a gzip scrape without a gzip body");
          }
        } else if (std::string problem = ExpositionProblem(res->body);
                   !problem.empty()) {
          fail("exposition: " + problem);
        }
        ++scrapes;
      }
    });
  }
  threads.emplace_back([&] {
    httplib::Client client("127.0.0.1", exporter.port());
    client.set_read_timeout(10);
    for (long round = 0; running(); ++round) {
      // Configured tasks 1 and 2, or 3 and 4.
      WriteAtomically(config_path, ConfigToml(sim, round % 2 == 0 ? 3 : 1));
      if (round % 2 == 0) {
        exporter.process().Signal(SIGHUP);
      } else {
        auto res = client.Post("/-/reload");
        if (!res || res->status != 200) {
          fail("reload: " + (res ? std::to_string(res->status) + " " + res->body
                                 : httplib::to_string(res.error())));
        }
      }
      ++reloads;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  for (int c = 0; c < kApiClients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", exporter.port());
      client.set_read_timeout(10);
      const char* account = c % 2 == 0 ? "keys" : "role";
      for (long i = 0; running(); ++i) {
        long id = kFirstApiId + c * kIdsPerClient + i % kIdsPerClient;
        bool remove = (i / kIdsPerClient) % 2 == 1;
        httplib::Result res =
            remove ? client.Delete("/api/v1/tasks/" + std::string(account) +
                                   "/" + std::to_string(id))
                   : client.Post(
                         "/api/v1/tasks",
                         "{\"account\": \"" + std::string(account) +
                             "\", \"export_id\": " + std::to_string(id) + "}",
                         "application/json");
        bool ok = res && (remove ? res->status == 204
                                 : res->status == 201 || res->status == 200);
        if (!ok) {
          fail("task API: " +
               (res ? std::to_string(res->status) + " " + res->body
                    : httplib::to_string(res.error())));
          continue;
        }
        std::lock_guard lock(mutex);
        acknowledged[{account, id}] = !remove;
        ++api_changes;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_GT(scrapes, 20);
  EXPECT_GT(reloads, 5);
  EXPECT_GT(api_changes, 4 * kIdsPerClient);
  // Polls (and AssumeRole calls) went on throughout: 8 tasks every 100 ms.
  EXPECT_GT(sim_requests() - requests_before, 50);
  // Healthy, and the last reload (tasks 1 and 2 or 3 and 4) applied.
  EXPECT_EQ(exporter.Get("/-/healthy").first, 200);
  long configured = reloads % 2 == 1 ? 3 : 1;
  ASSERT_TRUE(WaitUntil([&] {
    std::string metrics = exporter.Metrics();
    return FindSample(metrics, Up("keys", configured)) == 1 &&
           FindSample(metrics, Up("role", configured + 1)) == 1;
  })) << exporter.process().output();
  EXPECT_EQ(FindSample(exporter.Metrics(),
                       "aliyun_sas_exporter_config_last_reload_successful"),
            1);
  // The role's credentials were renewed during the run, without errors.
  std::string metrics = exporter.Metrics();
  EXPECT_GE(
      FindSample(metrics,
                 "aliyun_sas_credentials_refreshes_total{account=\"role\"")
          .value_or(0),
      2);
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("code=\"credentials\"")));
  // No registration lost, no removal undone: the list and the metrics agree
  // with the last answer to each id.
  auto list =
      httplib::Client("127.0.0.1", exporter.port()).Get("/api/v1/tasks");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200);
  std::set<std::pair<std::string, long>> listed;
  nlohmann::json listing = nlohmann::json::parse(list->body);
  for (const auto& task : listing["tasks"]) {
    listed.emplace(task["account"].get<std::string>(),
                   task["export_id"].get<long>());
  }
  std::lock_guard lock(mutex);
  for (const auto& [task, registered] : acknowledged) {
    EXPECT_EQ(listed.contains(task), registered)
        << task.first << "/" << task.second;
    if (registered) {
      EXPECT_TRUE(WaitUntil([&, task = task] {
        return FindSample(exporter.Metrics(), Up(task.first, task.second)) == 1;
      })) << task.first
          << "/" << task.second;
    }
  }
  exporter.process().Signal(SIGTERM);
  EXPECT_EQ(exporter.process().Wait(), 0) << exporter.process().output();
}

}  // namespace
}  // namespace sas::testing
