// Several exporter replicas splitting one task set by --shard and
// --total-shards, and the self-monitoring of an exporter that cannot keep
// up, against the simulator: real processes on loopback, checked on the
// simulator's request log.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "support/harness.h"

namespace sas::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr int kShards = 3;

// A task as the simulator's request log identifies it.
using TaskId = std::tuple<std::string, int64_t, int64_t>;  // action, id, rd

// Access key -> task -> calls, from the request log.
std::map<std::string, std::map<TaskId, int>> CallsByKey(const Simulator& sim) {
  std::map<std::string, std::map<TaskId, int>> calls;
  json log = json::parse(sim.RequestLog());
  for (const json& call : log["calls"]) {
    int64_t rd = call["rd_account_id"].is_null()
                     ? 0
                     : call["rd_account_id"].get<int64_t>();
    ++calls[call["access_key_id"].get<std::string>()]
           [{call["action"].get<std::string>(),
             call["export_id"].get<int64_t>(), rd}];
  }
  return calls;
}

std::string ShardKey(int shard) { return "AKSHARD" + std::to_string(shard); }

class Sharding : public ::testing::Test {
 protected:
  // Exports 1..12 finish at once (a poll sees them done, so each is polled
  // exactly once); 101..106 and DescribeVulExportInfo 1..3 run for an hour
  // (polled every round).
  static std::string Scenario() {
    std::string scenario;
    for (int id = 1; id <= 12; ++id) {
      scenario +=
          "[[export]]\nid = " + std::to_string(id) + "\nduration = \"0s\"\n";
    }
    for (int id = 101; id <= 106; ++id) {
      scenario +=
          "[[export]]\nid = " + std::to_string(id) + "\nduration = \"1h\"\n";
    }
    for (int id = 1; id <= 3; ++id) {
      scenario += "[[export]]\nid = " + std::to_string(id) +
                  "\naction = \"DescribeVulExportInfo\"\nduration = \"1h\"\n";
    }
    return scenario;
  }

  Sharding()
      : sim_(Scenario(), {ShardKey(0) + ":SECRET", ShardKey(1) + ":SECRET",
                          ShardKey(2) + ":SECRET"}) {
    // Half the finishing exports and two running ones from the
    // configuration; the rest, a member-account task and the
    // DescribeVulExportInfo ones from a task file all replicas share.
    std::string tasks;
    json file = json::array();
    for (int id = 1; id <= 12; ++id) {
      if (id % 2 == 0) {
        tasks +=
            "[[task]]\naccount = \"sim\"\nexport_id = " + std::to_string(id) +
            "\n";
      } else {
        file.push_back({{"account", "sim"}, {"export_id", id}});
      }
      expected_.insert({"DescribeExportInfo", id, 0});
    }
    for (int id = 101; id <= 106; ++id) {
      if (id <= 102) {
        tasks +=
            "[[task]]\naccount = \"sim\"\nexport_id = " + std::to_string(id) +
            "\n";
      } else {
        file.push_back({{"account", "sim"}, {"export_id", id}});
      }
      expected_.insert({"DescribeExportInfo", id, 0});
    }
    // The same export for a member account is another task.
    file.push_back(
        {{"account", "sim"}, {"export_id", 101}, {"rd_account_id", 77}});
    expected_.insert({"DescribeExportInfo", 101, 77});
    for (int id = 1; id <= 3; ++id) {
      file.push_back({{"account", "sim"},
                      {"export_id", id},
                      {"action", "DescribeVulExportInfo"}});
      expected_.insert({"DescribeVulExportInfo", id, 0});
    }
    std::string task_file = task_dir_.Write("tasks.json", file.dump());
    config_ = "[exporter]\npoll_interval = \"300ms\"\ntask_files = [\"" +
              task_file + "\"]\n\n[[account]]\nname = \"sim\"\nendpoint = \"" +
              sim_.url() +
              "\"\nmax_requests_per_second = 100\n[account.credentials]\n"
              "access_key_id_env = \"SIM_ACCESS_KEY_ID\"\n"
              "access_key_secret = \"SECRET\"\n\n" +
              tasks;
    for (int shard = 0; shard < kShards; ++shard) {
      storage_.push_back(std::make_unique<TempDir>());
      replicas_.push_back(std::make_unique<Exporter>(
          config_,
          std::vector<std::string>{"SIM_ACCESS_KEY_ID=" + ShardKey(shard)},
          std::vector<std::string>{"--shard=" + std::to_string(shard),
                                   "--total-shards=" + std::to_string(kShards),
                                   "--web.enable-task-api", "--storage.path",
                                   storage_.back()->path()}));
    }
  }

  // Waits until every expected task is in the request log.
  bool WaitForEveryTask() {
    return WaitUntil(
        [&] {
          std::set<TaskId> seen;
          for (const auto& [key, tasks] : CallsByKey(sim_)) {
            for (const auto& [task, count] : tasks) seen.insert(task);
          }
          return std::includes(seen.begin(), seen.end(), expected_.begin(),
                               expected_.end());
        },
        Seconds(30));
  }

  TempDir task_dir_;
  Simulator sim_;
  std::set<TaskId> expected_;
  std::string config_;
  std::vector<std::unique_ptr<TempDir>> storage_;
  std::vector<std::unique_ptr<Exporter>> replicas_;
};

TEST_F(Sharding, ReplicasPollEveryTaskOfConfigAndTaskFileExactlyOnce) {
  ASSERT_TRUE(WaitForEveryTask()) << sim_.RequestLog();
  // Two more rounds of the running tasks.
  std::string log_before = sim_.RequestLog();
  size_t calls_before = json::parse(log_before)["calls"].size();
  ASSERT_TRUE(WaitUntil([&] {
    return json::parse(sim_.RequestLog())["calls"].size() >=
           calls_before + 2 * 10;
  }));

  std::map<TaskId, std::set<std::string>> pollers;
  for (const auto& [key, tasks] : CallsByKey(sim_)) {
    EXPECT_THAT(key, ::testing::StartsWith("AKSHARD"));
    EXPECT_FALSE(tasks.empty()) << key << " polled nothing";
    for (const auto& [task, count] : tasks) {
      pollers[task].insert(key);
      // A finished export is polled once, by one replica, ever.
      if (std::get<1>(task) <= 12 &&
          std::get<0>(task) == "DescribeExportInfo") {
        EXPECT_EQ(count, 1) << std::get<1>(task) << " by " << key;
      }
    }
  }
  EXPECT_EQ(pollers.size(), expected_.size());
  for (const auto& [task, keys] : pollers) {
    EXPECT_TRUE(expected_.contains(task)) << std::get<1>(task);
    EXPECT_EQ(keys.size(), 1u) << std::get<0>(task) << "/" << std::get<1>(task)
                               << " polled by " << keys.size() << " replicas";
  }
  EXPECT_EQ(CallsByKey(sim_).size(), static_cast<size_t>(kShards));

  // Each replica lists and exposes only its own tasks, and says which
  // shard it is.
  std::set<std::string> listed;
  size_t listed_count = 0;
  for (int shard = 0; shard < kShards; ++shard) {
    auto [status, body] = replicas_[shard]->Get("/api/v1/tasks");
    ASSERT_EQ(status, 200);
    json answer = json::parse(body);
    EXPECT_EQ(answer["shard"], shard);
    EXPECT_EQ(answer["total_shards"], kShards);
    for (const json& task : answer["tasks"]) {
      listed.insert(task["action"].get<std::string>() + "/" +
                    task["export_id"].dump() + "/" +
                    task["rd_account_id"].dump());
      ++listed_count;
    }
    std::string metrics = replicas_[shard]->Metrics();
    EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_shard_ordinal{shard_"
                                   "ordinal=\"" +
                                   std::to_string(shard) + "\"} " +
                                   std::to_string(shard) + "\n"));
    EXPECT_THAT(metrics, HasSubstr("aliyun_sas_exporter_total_shards 3\n"));
    EXPECT_EQ(replicas_[shard]->Get("/-/ready").first, 200);
  }
  EXPECT_EQ(listed.size(), expected_.size());
  EXPECT_EQ(listed_count, expected_.size());
}

TEST_F(Sharding, TaskApiSendsATaskToTheReplicaThatOwnsIt) {
  ASSERT_TRUE(WaitForEveryTask()) << sim_.RequestLog();
  // A task no replica has yet: the member-account variant of a running
  // export.
  const std::string member =
      R"({"account": "sim", "export_id": 105, "rd_account_id": 4242})";
  std::vector<int> statuses;
  std::set<int> named;
  int owner = -1;
  for (int shard = 0; shard < kShards; ++shard) {
    httplib::Client client("127.0.0.1", replicas_[shard]->port());
    auto answer = client.Post("/api/v1/tasks", member, "application/json");
    ASSERT_TRUE(answer);
    statuses.push_back(answer->status);
    json body = json::parse(answer->body);
    if (answer->status == 421) {
      EXPECT_THAT(body["error"].get<std::string>(),
                  HasSubstr("belongs to shard"));
      named.insert(body["shard"].get<int>());
    } else {
      EXPECT_EQ(answer->status, 201) << answer->body;
      owner = shard;
    }
  }
  ASSERT_NE(owner, -1) << "no replica took the task";
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 421), kShards - 1);
  EXPECT_EQ(named, std::set<int>{owner});
  // Only the owner polls it.
  TaskId id{"DescribeExportInfo", 105, 4242};
  ASSERT_TRUE(WaitUntil([&] {
    auto calls = CallsByKey(sim_);
    return calls[ShardKey(owner)].contains(id);
  }));
  for (const auto& [key, tasks] : CallsByKey(sim_)) {
    if (key != ShardKey(owner)) {
      EXPECT_FALSE(tasks.contains(id)) << key;
    }
  }
  // Deleting it elsewhere is misdirected too.
  httplib::Client other("127.0.0.1", replicas_[(owner + 1) % kShards]->port());
  auto gone = other.Delete("/api/v1/tasks/sim/105?rd_account_id=4242");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 421);
  EXPECT_EQ(json::parse(gone->body)["shard"], owner);
}

// Twenty tasks a second against a limit of five: polls start ever later,
// and the exporter says so.
TEST(SelfMonitoring, LagGrowsWhenDemandExceedsTheRateLimit) {
  std::string scenario;
  std::string tasks;
  for (int id = 1; id <= 20; ++id) {
    scenario +=
        "[[export]]\nid = " + std::to_string(id) + "\nduration = \"1h\"\n";
    tasks +=
        "[[task]]\naccount = \"sim\"\nexport_id = " + std::to_string(id) + "\n";
  }
  Simulator sim(scenario);
  Exporter exporter(
      "[exporter]\npoll_interval = \"1s\"\n\n[[account]]\nname = \"sim\"\n"
      "endpoint = \"" +
      sim.url() +
      "\"\nmax_requests_per_second = 5\n[account.credentials]\n"
      "access_key_id = \"AKID\"\naccess_key_secret = \"SECRET\"\n\n" +
      tasks);
  const std::string lag = "aliyun_sas_poll_start_lag_seconds";
  // Polls past the first second of backlog start more than 2.5 s late.
  ASSERT_TRUE(WaitForSample(
      exporter, lag + "_bucket{account=\"sim\",le=\"2.5\"}",
      [&](double within) {
        auto total =
            FindSample(exporter.Metrics(), lag + "_count{account=\"sim\"}");
        return total && *total - within >= 5;
      },
      Seconds(30)))
      << exporter.Metrics();
  std::string metrics = exporter.Metrics();
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_account_demanded_requests_per_"
                                 "second{account=\"sim\"} 20\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_account_max_requests_per_second{"
                                 "account=\"sim\"} 5\n"));
  EXPECT_THAT(metrics, HasSubstr("aliyun_sas_account_up{account=\"sim\"} 1\n"));
}

TEST(SelfMonitoring, AccountIsDownWhileItsCredentialsAreRefused) {
  Simulator sim("[[export]]\nid = 1\nduration = \"1h\"\n");
  Exporter exporter(
      "[exporter]\npoll_interval = \"300ms\"\n\n[[account]]\nname = \"sim\"\n"
      "endpoint = \"" +
      sim.url() +
      "\"\n[account.credentials]\naccess_key_id = \"AKID\"\n"
      "access_key_secret = \"WRONG\"\n\n[[task]]\naccount = \"sim\"\n"
      "export_id = 1\n");
  EXPECT_TRUE(WaitForSample(exporter, "aliyun_sas_account_up{account=\"sim\"}",
                            [](double up) { return up == 0; }))
      << exporter.Metrics();
}

}  // namespace
}  // namespace sas::testing
