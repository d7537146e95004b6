// Tasks that come and go: the task API and task files, end to end.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/harness.h"

namespace sas::testing {
namespace {

using ::testing::HasSubstr;

std::string Config(const Simulator& sim, const std::string& task_dir) {
  return "[exporter]\npoll_interval = \"300ms\"\ntask_files = [\"" + task_dir +
         "/*.json\"]\n\n[[account]]\nname = \"sim\"\nendpoint = \"" +
         sim.url() +
         "\"\nmax_requests_per_second = 100\n[account.credentials]\n"
         "access_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n";
}

std::string Up(long export_id) {
  return "aliyun_sas_export_up{account=\"sim\",action=\"DescribeExportInfo\","
         "export_id=\"" +
         std::to_string(export_id) + "\",rd_account_id=\"\"}";
}

class Api {
 public:
  explicit Api(int port) : client_("127.0.0.1", port) {}
  httplib::Result Post(const std::string& body) {
    return client_.Post("/api/v1/tasks", body, "application/json");
  }
  httplib::Result Delete(const std::string& path) {
    return client_.Delete(path);
  }
  httplib::Result List() { return client_.Get("/api/v1/tasks"); }

 private:
  httplib::Client client_;
};

TEST(Discovery, TaskApiRegistersListsAndDeletesAndSurvivesRestarts) {
  Simulator sim(
      "[[export]]\nid = 1\nduration = \"1h\"\n[[export]]\nid = 2\n"
      "duration = \"1h\"\n");
  TempDir dir;
  std::string storage = dir.path() + "/data";
  std::filesystem::create_directories(dir.path() + "/tasks");
  std::vector<std::string> flags = {"--web.enable-task-api", "--storage.path",
                                    storage};
  {
    Exporter exporter(Config(sim, dir.path() + "/tasks"), {}, flags);
    Api api(exporter.port());
    auto created =
        api.Post(R"({"account": "sim", "export_id": 1, "name": "api task"})");
    ASSERT_TRUE(created);
    EXPECT_EQ(created->status, 201) << created->body;
    EXPECT_EQ(api.Post(R"({"account": "sim", "export_id": 1})")->status, 200);
    ASSERT_TRUE(WaitUntil([&] {
      return FindSample(exporter.Metrics(), Up(1)) == 1;
    })) << exporter.process().output();
    auto list = api.List();
    ASSERT_TRUE(list);
    EXPECT_THAT(list->body, HasSubstr("\"name\":\"api task\""));
    EXPECT_THAT(list->body, HasSubstr("\"status\":\"exporting\""));

    // Bad input: specific 4xx with a JSON error.
    auto malformed = api.Post("{\"account\": ");
    EXPECT_EQ(malformed->status, 400);
    EXPECT_THAT(malformed->body, HasSubstr("\"error\""));
    EXPECT_EQ(api.Post(R"({"account": "nope", "export_id": 2})")->status, 422);
    auto huge = api.Post(std::string(70 * 1024, ' ') + "{}");
    EXPECT_EQ(huge->status, 413);
    EXPECT_THAT(huge->body, HasSubstr("64 KiB"));

    api.Post(R"({"account": "sim", "export_id": 2})");
    ASSERT_TRUE(
        WaitUntil([&] { return FindSample(exporter.Metrics(), Up(2)) == 1; }));
    EXPECT_EQ(api.Delete("/api/v1/tasks/sim/2")->status, 204);
    // Gone at once, not after the next poll.
    EXPECT_FALSE(FindSample(exporter.Metrics(), Up(2)).has_value());
    EXPECT_EQ(api.Delete("/api/v1/tasks/sim/2")->status, 404);
  }
  // A restart keeps the registered task.
  Exporter restarted(Config(sim, dir.path() + "/tasks"), {}, flags);
  EXPECT_TRUE(WaitUntil([&] {
    return FindSample(restarted.Metrics(), Up(1)) == 1;
  })) << restarted.process().output();
  EXPECT_FALSE(FindSample(restarted.Metrics(), Up(2)).has_value());
}

// Registrations and removals from parallel clients, the exporter killed
// with SIGKILL while they run: after a restart on the same storage, every
// registration answered 201/200 is there, unless its removal was sent (a
// removal killed before its answer may or may not have happened), and every
// removal answered 204 is gone.
TEST(Discovery, EveryAcknowledgedChangeSurvivesSigkill) {
  Simulator sim("[[export]]\nid = 1\nduration = \"1h\"\n");
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/tasks");
  std::string config = Config(sim, dir.path() + "/tasks");
  std::vector<std::string> flags = {"--web.enable-task-api", "--storage.path",
                                    dir.path() + "/data"};
  auto exporter =
      std::make_unique<Exporter>(config, std::vector<std::string>{}, flags);
  constexpr int kClients = 6;
  constexpr int kAcknowledgedBeforeKill = 400;
  std::mutex mutex;
  // Answered 201/200; removal sent (answered or not); removal answered 204.
  std::set<long> registered, removing, removed;
  std::atomic<int> answers{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c, port = exporter->port()] {
      httplib::Client client("127.0.0.1", port);
      client.set_connection_timeout(2);
      client.set_read_timeout(10);
      for (long i = 0;; ++i) {
        long id = 100'000 * (c + 1) + i;
        auto created = client.Post(
            "/api/v1/tasks",
            "{\"account\": \"sim\", \"export_id\": " + std::to_string(id) + "}",
            "application/json");
        if (!created) return;  // the exporter is gone
        if (created->status != 201 && created->status != 200) {
          ++unexpected;
          continue;
        }
        {
          std::lock_guard lock(mutex);
          registered.insert(id);
        }
        ++answers;
        if (i % 4 != 3) continue;
        {
          std::lock_guard lock(mutex);
          removing.insert(id);
        }
        auto gone = client.Delete("/api/v1/tasks/sim/" + std::to_string(id));
        if (!gone) return;
        if (gone->status == 204) {
          std::lock_guard lock(mutex);
          removed.insert(id);
        }
      }
    });
  }
  bool enough = WaitUntil([&] { return answers >= kAcknowledgedBeforeKill; },
                          Seconds(120));
  exporter->process().Signal(SIGKILL);
  EXPECT_TRUE(exporter->process().Wait().has_value());
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(enough) << exporter->process().output();
  EXPECT_EQ(unexpected, 0);
  exporter.reset();

  Exporter restarted(config, {}, flags);
  Api api(restarted.port());
  auto list = api.List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200);
  std::set<long> present;
  nlohmann::json listed = nlohmann::json::parse(list->body);
  for (const auto& task : listed["tasks"]) {
    present.insert(task["export_id"].get<long>());
  }
  std::lock_guard lock(mutex);
  int missing = 0, resurrected = 0;
  for (long id : registered) {
    if (removed.contains(id)) {
      resurrected += present.contains(id);
    } else if (!removing.contains(id)) {
      missing += !present.contains(id);
    }
  }
  EXPECT_EQ(missing, 0) << "of " << registered.size() << " acknowledged";
  EXPECT_EQ(resurrected, 0) << "of " << removed.size() << " removed";
  EXPECT_GE(registered.size(), static_cast<size_t>(kAcknowledgedBeforeKill));
  EXPECT_THAT(restarted.process().output(),
              ::testing::Not(HasSubstr("set aside")));
}

// Export 1 is configured; export 2, registered through the API, answers
// only after 3 s, so it is certainly not polled yet when readiness is asked.
class Readiness : public ::testing::Test {
 protected:
  Readiness()
      : sim_(
            "[[export]]\nid = 1\nduration = \"1h\"\n[[export]]\nid = 2\n"
            "duration = \"1h\"\nlatency = \"3s\"\n") {
    std::filesystem::create_directories(dir_.path() + "/tasks");
    exporter_ = std::make_unique<Exporter>(
        Config(sim_, dir_.path() + "/tasks") +
            "\n[[task]]\naccount = \"sim\"\nexport_id = 1\n",
        std::vector<std::string>{},
        std::vector<std::string>{"--web.enable-task-api", "--storage.path",
                                 dir_.path() + "/data"});
  }
  void RegisterSlowTask() {
    auto created =
        Api(exporter_->port()).Post(R"({"account": "sim", "export_id": 2})");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201);
  }

  Simulator sim_;
  TempDir dir_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(Readiness, StaysUpWhenATaskIsRegistered) {
  ASSERT_TRUE(
      WaitUntil([&] { return exporter_->Get("/-/ready").first == 200; }));
  RegisterSlowTask();
  EXPECT_EQ(exporter_->Get("/-/ready").first, 200);
}

// Nothing asks /-/ready until a task registered after the start is still
// unpolled: readiness waits for the tasks known at start only.
TEST_F(Readiness, IgnoresTasksRegisteredBeforeTheFirstProbe) {
  RegisterSlowTask();
  ASSERT_TRUE(WaitUntil(
      [&] { return FindSample(exporter_->Metrics(), Up(1)).has_value(); }));
  EXPECT_FALSE(FindSample(exporter_->Metrics(), Up(2)));
  EXPECT_EQ(exporter_->Get("/-/ready").first, 200);
}

TEST(Discovery, TaskApiIsOffByDefault) {
  Simulator sim("[[export]]\nid = 1\n");
  TempDir dir;
  Exporter exporter(Config(sim, dir.path()));
  Api api(exporter.port());
  EXPECT_EQ(api.Post(R"({"account": "sim", "export_id": 1})")->status, 405);
  EXPECT_EQ(api.List()->status, 404);
}

TEST(Discovery, TaskFilesComeAndGo) {
  Simulator sim(
      "[[export]]\nid = 1\nduration = \"1h\"\n[[export]]\nid = 2\n"
      "duration = \"1h\"\n");
  TempDir dir;
  std::string tasks = dir.path() + "/tasks";
  std::filesystem::create_directories(tasks);
  Exporter exporter(Config(sim, tasks));
  dir.Write("tasks/a.json", R"([{"account": "sim", "export_id": 1}])");
  ASSERT_TRUE(WaitUntil([&] {
    return FindSample(exporter.Metrics(), Up(1)) == 1;
  })) << exporter.process().output();
  // Broken: counted, logged with its position, last good content kept.
  dir.Write("tasks/a.json", "[{\"account\": \"sim\",\n \"export_id\": }]");
  ASSERT_TRUE(WaitUntil([&] {
    return FindSample(exporter.Metrics(),
                      "aliyun_sas_exporter_task_file_errors_total{file=\"" +
                          tasks + "/a.json\"}")
               .value_or(0) >= 1;
  })) << exporter.process().output();
  EXPECT_EQ(FindSample(exporter.Metrics(), Up(1)), 1);
  EXPECT_THAT(exporter.process().output(), HasSubstr(tasks + "/a.json:2:"));
  dir.Write("tasks/a.json", R"([{"account": "sim", "export_id": 2}])");
  ASSERT_TRUE(
      WaitUntil([&] { return FindSample(exporter.Metrics(), Up(2)) == 1; }));
  EXPECT_FALSE(FindSample(exporter.Metrics(), Up(1)).has_value());
}

}  // namespace
}  // namespace sas::testing

namespace sas::testing {
namespace {

TEST(Discovery, RestartKeepsFirstSeenAndLastProgress) {
  Simulator sim("[[export]]\nid = 1\nstuck_at = 30\nduration = \"1s\"\n");
  TempDir dir;
  std::vector<std::string> flags = {"--storage.path", dir.path() + "/data"};
  std::string config = Config(sim, dir.path()) +
                       "\n[[task]]\naccount = \"sim\"\nexport_id = 1\n";
  std::string first_seen =
      "aliyun_sas_export_first_seen_timestamp_seconds{account=\"sim\","
      "action=\"DescribeExportInfo\",export_id=\"1\",rd_account_id=\"\"}";
  std::string last_progress =
      "aliyun_sas_export_last_progress_timestamp_seconds{account=\"sim\","
      "action=\"DescribeExportInfo\",export_id=\"1\",rd_account_id=\"\"}";
  double seen = 0, progressed = 0;
  {
    Exporter exporter(config, {}, flags);
    // Stuck at 30 %: once there, last progress stops moving.
    ASSERT_TRUE(WaitUntil([&] {
      return FindSample(exporter.Metrics(),
                        "aliyun_sas_export_progress_ratio{account=\"sim\"") ==
             0.3;
    })) << exporter.process().output();
    std::string metrics = exporter.Metrics();
    seen = *FindSample(metrics, first_seen);
    progressed = *FindSample(metrics, last_progress);
    exporter.process().Signal(SIGTERM);
    ASSERT_EQ(exporter.process().Wait(), 0);
  }
  Exporter restarted(config, {}, flags);
  ASSERT_TRUE(
      WaitUntil([&] { return FindSample(restarted.Metrics(), Up(1)) == 1; }));
  std::string metrics = restarted.Metrics();
  EXPECT_EQ(FindSample(metrics, first_seen), seen);
  EXPECT_EQ(FindSample(metrics, last_progress), progressed);
  // A state file that cannot be read is set aside, said loudly, counted.
  restarted.process().Signal(SIGTERM);
  restarted.process().Wait();
  std::ofstream(dir.path() + "/data/state.json", std::ios::trunc) << "{garbage";
  Exporter broken(config, {}, flags);
  EXPECT_THAT(broken.process().output(), HasSubstr("STATE FILE UNREADABLE"));
  EXPECT_EQ(FindSample(broken.Metrics(),
                       "aliyun_sas_exporter_state_load_errors_total"),
            1);
  bool aside = false;
  for (const auto& file :
       std::filesystem::directory_iterator(dir.path() + "/data")) {
    if (file.path().filename().string().rfind("state.json.broken-", 0) == 0) {
      aside = true;
    }
  }
  EXPECT_TRUE(aside);
}

}  // namespace
}  // namespace sas::testing

namespace sas::testing {
namespace {

std::string BackUpSeries(std::string_view metric, long export_id,
                         std::string_view extra = "") {
  return std::string(metric) +
         "{account=\"sim\",action=\"DescribeBackUpExportInfo\",export_id=\"" +
         std::to_string(export_id) + "\",rd_account_id=\"\"" +
         std::string(extra) + "}";
}

// discover_backup_exports: every archived export DescribeBackUpExportInfo
// lists is tracked without registration, over several pages, shown as
// "discovered" in the task API, never polled one by one, and refused as a
// registration.
TEST(Discovery, ArchivedExportsAreDiscoveredAcrossPages) {
  std::string scenario;
  for (int id = 1; id <= 23; ++id) {
    scenario += "[[export]]\nid = " + std::to_string(id) +
                "\naction = \"DescribeBackUpExportInfo\"\nduration = \"" +
                (id == 23 ? "1h" : "1s") + "\"\n";
  }
  // Finished two days before anyone looked: not tracked.
  scenario +=
      "[[export]]\nid = 30\naction = \"DescribeBackUpExportInfo\"\n"
      "duration = \"0s\"\ncreated_ago = \"48h\"\n";
  Simulator sim(scenario);
  TempDir dir;
  std::string config =
      "[exporter]\npoll_interval = \"300ms\"\n\n[[account]]\nname = \"sim\""
      "\nendpoint = \"" +
      sim.url() +
      "\"\nmax_requests_per_second = 100\ndiscover_backup_exports = true\n"
      "[account.credentials]\naccess_key_id = \"AKID\"\n"
      "access_key_secret = \"SECRET\"\n";
  Exporter exporter(
      config, {},
      {"--web.enable-task-api", "--storage.path", dir.path() + "/data"});

  // 24 listed exports at 20 a page: the 23rd (id 1, listed last) is on the
  // second page.
  ASSERT_TRUE(WaitUntil([&] {
    std::string metrics = exporter.Metrics();
    return FindSample(metrics, BackUpSeries("aliyun_sas_export_up", 1)) == 1 &&
           FindSample(metrics, BackUpSeries("aliyun_sas_export_status", 2,
                                            ",status=\"success\"")) == 1;
  })) << exporter.process().output();
  std::string metrics = exporter.Metrics();
  EXPECT_EQ(FindSample(metrics, BackUpSeries("aliyun_sas_export_status", 23,
                                             ",status=\"exporting\"")),
            1);
  EXPECT_FALSE(FindSample(metrics, BackUpSeries("aliyun_sas_export_up", 30))
                   .has_value());
  EXPECT_GE(FindSample(metrics,
                       "aliyun_sas_api_requests_total{account=\"sim\","
                       "action=\"DescribeBackUpExportInfo\"}")
                .value_or(0),
            2);
  // The download link never leaves the exporter.
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("Signature=")));

  Api api(exporter.port());
  auto list = api.List();
  ASSERT_TRUE(list);
  EXPECT_THAT(list->body, HasSubstr("\"sources\":[\"discovered\"]"));
  EXPECT_THAT(list->body, ::testing::Not(HasSubstr("Signature=")));
  auto refused = api.Post(
      R"({"account": "sim", "action": "DescribeBackUpExportInfo", "export_id": 5})");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_THAT(refused->body, HasSubstr("discover_backup_exports"));
  auto undeletable =
      api.Delete("/api/v1/tasks/sim/5?action=DescribeBackUpExportInfo");
  ASSERT_TRUE(undeletable);
  EXPECT_EQ(undeletable->status, 404);
  EXPECT_THAT(undeletable->body, HasSubstr("it comes from discovered"));

  // Only listings: no per-export request ever reached the simulator.
  nlohmann::json stats = nlohmann::json::parse(sim.Stats());
  EXPECT_TRUE(stats["by_export"].empty()) << stats.dump();
}

}  // namespace
}  // namespace sas::testing
