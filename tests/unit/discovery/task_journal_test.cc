// The task API's journal: replay, torn tails, compaction crash windows,
// group commit and write failures.

#include "discovery/task_journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "discovery/task_api.h"
#include "discovery/task_registry.h"
#include "poll/poller.h"
#include "support/fake_clock.h"
#include "util/log.h"

namespace sas::discovery {
namespace {

using ::sas::testing::FakeClock;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sas-journal-XXXXXX")
            .string();
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ + "/" + name, std::ios::trunc | std::ios::binary)
        << content;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(path_ + "/" + name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  bool Exists(const std::string& name) const {
    return std::filesystem::exists(path_ + "/" + name);
  }
  // Names in the directory starting with prefix.
  std::vector<std::string> Named(const std::string& prefix) const {
    std::vector<std::string> names;
    for (const auto& file : std::filesystem::directory_iterator(path_)) {
      std::string name = file.path().filename().string();
      if (name.rfind(prefix, 0) == 0) names.push_back(name);
    }
    return names;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TaskEntry Task(int64_t id, std::string name = "") {
  return TaskEntry{"prod", id, std::nullopt, std::move(name), std::nullopt};
}

std::string Add(int64_t id, std::string name = "") {
  return JournalLine({JournalRecord::Op::kAdd, Task(id, std::move(name))});
}

std::string Remove(int64_t id) {
  return JournalLine({JournalRecord::Op::kRemove, Task(id)});
}

// Captures log lines for the duration of a test.
class LogCapture {
 public:
  LogCapture() {
    log::Configure(log::Level::kDebug, log::Format::kLogfmt, &sink_);
  }
  ~LogCapture() { log::Configure(log::Level::kInfo, log::Format::kLogfmt); }
  std::string text() const { return sink_.str(); }

 private:
  std::ostringstream sink_;
};

// One exporter's worth of task API over a storage directory, as after a
// start: Load() has run.
class Instance {
 public:
  explicit Instance(const std::string& dir, TaskApiOptions options = Manual())
      : api_(std::make_unique<TaskApi>(LocalFileSystem(), registry_, store_,
                                       dir, std::move(options))) {
    loaded_ = api_->Load(&load_error_);
  }
  static TaskApiOptions Manual() {
    TaskApiOptions options;
    options.background_compaction = false;
    return options;
  }
  TaskApi& api() { return *api_; }
  bool loaded() const { return loaded_; }
  const std::string& load_error() const { return load_error_; }
  ApiResponse Post(int64_t id, const std::string& name = "") {
    return api_->Handle(
        {"POST",
         "/api/v1/tasks",
         {},
         "{\"account\": \"prod\", \"export_id\": " + std::to_string(id) +
             ", \"name\": \"" + name + "\"}"});
  }
  ApiResponse Delete(int64_t id) {
    return api_->Handle(
        {"DELETE", "/api/v1/tasks/prod/" + std::to_string(id), {}, ""});
  }
  // "id:name" of every tracked task, sorted.
  std::vector<std::string> Tasks() const {
    std::vector<std::string> out;
    for (const poll::TaskSnapshot& task : store_.Snapshot()) {
      out.push_back(std::to_string(task.definition.key.export_id) + ":" +
                    task.definition.name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  FakeClock clock_;
  poll::TaskStore store_{std::chrono::hours(1)};
  poll::Poller poller_{poll::PollerOptions{}, store_, {}, clock_};
  TaskRegistry registry_{store_, poller_, clock_, {"prod"}, 100'000};
  std::unique_ptr<TaskApi> api_;
  bool loaded_ = false;
  std::string load_error_;
};

std::string Snapshot(const std::vector<TaskEntry>& entries) {
  return TaskEntriesToJson(entries);
}

TEST(JournalReplay, AppliesAddsAndRemovesInOrder) {
  std::map<poll::TaskKey, TaskEntry> tasks;
  TaskEntry full{"prod", 7, 16670360956, "nightly",
                 WallTime(std::chrono::seconds(1700000000))};
  std::string text = JournalLine({JournalRecord::Op::kAdd, full}) + Add(8) +
                     Remove(8) + Add(9, "first") + Add(9, "second") +
                     Remove(10);
  ReplayResult result = ReplayJournal(text, "j", &tasks);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.records, 6u);
  EXPECT_FALSE(result.torn_tail);
  EXPECT_EQ(result.complete_bytes, text.size());
  ASSERT_EQ(tasks.size(), 2u);
  const TaskEntry& seven = tasks.at(full.Key());
  EXPECT_EQ(seven.name, "nightly");
  EXPECT_EQ(seven.rd_account_id, 16670360956);
  EXPECT_EQ(seven.created_at, full.created_at);
  EXPECT_EQ(tasks.at(Task(9).Key()).name, "second");
}

TEST(JournalReplay, OneLinePerRecordInTheTaskFileFormat) {
  EXPECT_EQ(Add(7, "n"),
            "{\"op\":\"add\",\"task\":{\"account\":\"prod\",\"export_id\":7,"
            "\"name\":\"n\"}}\n");
  EXPECT_EQ(Remove(7),
            "{\"op\":\"remove\",\"task\":{\"account\":\"prod\",\"export_id\":"
            "7}}\n");
}

TEST(JournalReplay, IgnoresATornLastLine) {
  std::map<poll::TaskKey, TaskEntry> tasks;
  std::string good = Add(1) + Add(2);
  std::string torn = Add(3).substr(0, 20);
  ReplayResult result = ReplayJournal(good + torn, "j", &tasks);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.torn_tail);
  EXPECT_EQ(result.records, 2u);
  EXPECT_EQ(result.complete_bytes, good.size());
  EXPECT_EQ(tasks.size(), 2u);
  // A complete line that lost only its '\n' is torn too: never acknowledged.
  tasks.clear();
  result =
      ReplayJournal(good + Add(3).substr(0, Add(3).size() - 1), "j", &tasks);
  EXPECT_TRUE(result.torn_tail);
  EXPECT_EQ(tasks.size(), 2u);
}

TEST(JournalReplay, ACorruptLineElsewhereFailsWithItsLineAndChangesNothing) {
  std::map<poll::TaskKey, TaskEntry> tasks = {{Task(5).Key(), Task(5)}};
  for (const std::string& bad :
       {std::string("{\"op\":\"add\",\"task\":{\"acc\n"),
        std::string("{\"op\":\"rename\",\"task\":{\"account\":\"a\","
                    "\"export_id\":1}}\n"),
        std::string("{\"op\":\"add\",\"task\":{\"account\":\"a\"}}\n"),
        std::string("[1]\n"), std::string("\n")}) {
    ReplayResult result = ReplayJournal(Add(1) + bad + Add(2), "j", &tasks);
    EXPECT_FALSE(result.ok) << bad;
    EXPECT_THAT(result.error, StartsWith("j:2: ")) << bad;
    EXPECT_EQ(tasks.size(), 1u);
  }
}

TEST(TaskJournalStorage, ChangesAreInTheJournalBeforeTheAnswer) {
  ScratchDir dir;
  Instance exporter(dir.path());
  ASSERT_TRUE(exporter.loaded()) << exporter.load_error();
  EXPECT_EQ(exporter.Post(1, "one").status, 201);
  EXPECT_EQ(exporter.Post(2).status, 201);
  EXPECT_EQ(exporter.Post(1).status, 200);  // no change, no line
  EXPECT_EQ(exporter.Delete(2).status, 204);
  EXPECT_EQ(dir.Read("tasks.journal"), Add(1, "one") + Add(2) + Remove(2));
  EXPECT_FALSE(dir.Exists("tasks.json"));
  EXPECT_EQ(exporter.api().journal().syncs(), 3u);
}

TEST(TaskJournalStorage, ARestartReplaysTheJournalAndCompactsIt) {
  ScratchDir dir;
  {
    Instance exporter(dir.path());
    exporter.Post(1, "one");
    exporter.Post(2);
    exporter.Post(3);
    exporter.Delete(2);
  }
  Instance restarted(dir.path());
  ASSERT_TRUE(restarted.loaded()) << restarted.load_error();
  EXPECT_THAT(restarted.Tasks(), ElementsAre("1:one", "3:3"));
  EXPECT_EQ(dir.Read("tasks.journal"), "");
  EXPECT_EQ(dir.Read("tasks.json"), Snapshot({Task(1, "one"), Task(3)}));
}

TEST(TaskJournalStorage, ATasksJsonOnlyDirectoryLoadsUnchanged) {
  ScratchDir dir;
  std::string old = R"([
  {"account": "prod", "export_id": 4, "name": "kept"},
  {"account": "prod", "export_id": 5, "rd_account_id": 9}
]
)";
  dir.Write("tasks.json", old);
  Instance exporter(dir.path());
  ASSERT_TRUE(exporter.loaded()) << exporter.load_error();
  EXPECT_THAT(exporter.Tasks(), ElementsAre("4:kept", "5:5"));
  EXPECT_EQ(dir.Read("tasks.json"), old);
  EXPECT_EQ(dir.Read("tasks.journal"), "");
}

TEST(TaskJournalStorage, ATornLastLineIsIgnoredLoggedAndCut) {
  ScratchDir dir;
  LogCapture log;
  dir.Write("tasks.journal", Add(1) + Add(2).substr(0, 25));
  {
    Instance exporter(dir.path());
    ASSERT_TRUE(exporter.loaded()) << exporter.load_error();
    EXPECT_THAT(exporter.Tasks(), ElementsAre("1:1"));
    EXPECT_THAT(log.text(), HasSubstr("torn last line"));
    EXPECT_EQ(exporter.Post(3).status, 201);
  }
  Instance restarted(dir.path());
  ASSERT_TRUE(restarted.loaded()) << restarted.load_error();
  EXPECT_THAT(restarted.Tasks(), ElementsAre("1:1", "3:3"));
}

TEST(TaskJournalStorage, ACorruptJournalIsSetAsideAndLogged) {
  ScratchDir dir;
  dir.Write("tasks.json", Snapshot({Task(1)}));
  dir.Write("tasks.journal", Add(2) + "garbage\n" + Add(3));
  Instance exporter(dir.path());
  EXPECT_FALSE(exporter.loaded());
  EXPECT_THAT(exporter.load_error(), HasSubstr("tasks.journal:2: "));
  EXPECT_THAT(exporter.load_error(), HasSubstr("set aside as"));
  // The snapshot's tasks stay; the journal's are kept aside, not lost.
  EXPECT_THAT(exporter.Tasks(), ElementsAre("1:1"));
  std::vector<std::string> aside = dir.Named("tasks.journal.broken-");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(dir.Read(aside[0]), Add(2) + "garbage\n" + Add(3));
  EXPECT_EQ(exporter.Post(4).status, 201);
  Instance restarted(dir.path());
  EXPECT_TRUE(restarted.loaded()) << restarted.load_error();
  EXPECT_THAT(restarted.Tasks(), ElementsAre("1:1", "4:4"));
}

TEST(TaskJournalStorage, ACorruptSnapshotSetsAsideTheJournalsBuiltOnIt) {
  ScratchDir dir;
  dir.Write("tasks.json", "[{\"account\": ");
  dir.Write("tasks.journal", Add(2));
  Instance exporter(dir.path());
  EXPECT_FALSE(exporter.loaded());
  EXPECT_THAT(exporter.load_error(), HasSubstr("tasks.json:"));
  EXPECT_THAT(exporter.Tasks(), IsEmpty());
  EXPECT_EQ(dir.Named("tasks.json.broken-").size(), 1u);
  EXPECT_EQ(dir.Named("tasks.journal.broken-").size(), 1u);
}

// Compaction: rename the journal to tasks.journal.old and start a new one;
// write tasks.json; delete tasks.journal.old. Load-time compaction: write
// tasks.json; delete the old journal; replace the journal with an empty one.
// Each state a crash can leave behind loads the same tasks.
TEST(TaskJournalStorage, EveryCompactionCrashWindowLoadsTheSameTasks) {
  std::vector<TaskEntry> base = {Task(1, "a"), Task(2, "b")};
  std::string j1 = Add(3, "c") + Remove(1) + Add(4, "d");
  std::string j2 = Remove(3) + Add(1, "a again") + Add(5, "e");
  std::vector<TaskEntry> after_j1 = {Task(2, "b"), Task(3, "c"), Task(4, "d")};
  std::vector<TaskEntry> after_j1_part = {Task(2, "b"), Task(4, "d")};
  std::vector<TaskEntry> after_all = {Task(1, "a again"), Task(2, "b"),
                                      Task(4, "d"), Task(5, "e")};
  struct Window {
    std::string name, snapshot, old_journal, journal;
    bool has_old = true;
    std::string leftover;  // another file a crash left
    std::vector<std::string> expected = {"1:a again", "2:b", "4:d", "5:e"};
  };
  std::vector<Window> windows = {
      {"nothing compacted yet", Snapshot(base), "", j1 + j2, false},
      {"journal renamed, new one started", Snapshot(base), j1, j2},
      {"renamed, new journal not yet created: nothing appended since",
       Snapshot(base),
       j1,
       "",
       true,
       "",
       {"2:b", "3:c", "4:d"}},
      {"renamed, temporary snapshot half written", Snapshot(base), j1, j2, true,
       "tasks.json.tmp-123"},
      {"snapshot written, old journal not deleted", Snapshot(after_j1), j1, j2},
      {"compaction done", Snapshot(after_j1), "", j2, false},
      {"folded an old journal and part of the current one",
       Snapshot(after_j1_part), "", Remove(3) + j2, false},
      {"load-time compaction: snapshot written", Snapshot(after_all), j1, j2},
      {"load-time compaction: old journal deleted", Snapshot(after_all), "", j2,
       false},
      {"load-time compaction done", Snapshot(after_all), "", "", false},
  };
  for (const Window& window : windows) {
    SCOPED_TRACE(window.name);
    ScratchDir dir;
    dir.Write("tasks.json", window.snapshot);
    if (window.has_old) dir.Write("tasks.journal.old", window.old_journal);
    if (window.journal.size() || !window.has_old) {
      dir.Write("tasks.journal", window.journal);
    }
    if (!window.leftover.empty()) dir.Write(window.leftover, "[{\"acc");
    {
      Instance exporter(dir.path());
      ASSERT_TRUE(exporter.loaded()) << exporter.load_error();
      EXPECT_EQ(exporter.Tasks(), window.expected);
      EXPECT_FALSE(dir.Exists("tasks.journal.old"));
    }
    // And once more: what the load wrote is itself a consistent state.
    Instance again(dir.path());
    EXPECT_EQ(again.Tasks(), window.expected);
  }
}

TEST(TaskJournalStorage, CompactionFoldsTheJournalIntoTheSnapshot) {
  ScratchDir dir;
  {
    Instance exporter(dir.path());
    for (int id = 1; id <= 5; ++id) exporter.Post(id);
    exporter.Delete(3);
    std::string error;
    ASSERT_TRUE(exporter.api().CompactOnce(&error)) << error;
    EXPECT_EQ(dir.Read("tasks.json"),
              Snapshot({Task(1), Task(2), Task(4), Task(5)}));
    EXPECT_EQ(dir.Read("tasks.journal"), "");
    EXPECT_FALSE(dir.Exists("tasks.journal.old"));
    exporter.Post(6);
    exporter.Delete(1);
    EXPECT_EQ(dir.Read("tasks.journal"), Add(6) + Remove(1));
  }
  Instance restarted(dir.path());
  EXPECT_THAT(restarted.Tasks(), ElementsAre("2:2", "4:4", "5:5", "6:6"));
}

TEST(TaskJournalStorage, AnUnfinishedCompactionIsCompletedByTheNext) {
  ScratchDir dir;
  Instance exporter(dir.path());
  exporter.Post(1);
  // As if the last compaction stopped after renaming the journal.
  std::filesystem::rename(dir.path() + "/tasks.journal",
                          dir.path() + "/tasks.journal.old");
  dir.Write("tasks.journal", "");
  ASSERT_TRUE(exporter.api().journal().has_old());
  exporter.Post(2);
  std::string error;
  ASSERT_TRUE(exporter.api().CompactOnce(&error)) << error;
  EXPECT_FALSE(dir.Exists("tasks.journal.old"));
  EXPECT_EQ(dir.Read("tasks.json"), Snapshot({Task(1), Task(2)}));
  Instance restarted(dir.path());
  EXPECT_THAT(restarted.Tasks(), ElementsAre("1:1", "2:2"));
}

TEST(TaskJournalGroupCommit, WaitersQueuedDuringAFlushShareTheNext) {
  ScratchDir dir;
  constexpr int kThreads = 8;
  TaskJournal* journal_ptr = nullptr;
  std::atomic<int> flushes{0};
  JournalOptions options;
  options.sync = [&](WritableFile& file) {
    // Hold the first flush until every other thread has queued its line.
    if (flushes++ == 0) {
      while (journal_ptr->last_seq() < kThreads) std::this_thread::yield();
    }
    return file.Sync();
  };
  TaskJournal journal(LocalFileSystem(), dir.path() + "/tasks.journal",
                      options);
  journal_ptr = &journal;
  std::string error;
  ASSERT_TRUE(journal.Open(0, &error)) << error;
  std::atomic<int> durable{0};
  std::vector<std::thread> threads;
  uint64_t first = journal.Append(Add(1));
  threads.emplace_back([&] {
    std::string why;
    if (journal.WaitDurable(first, &why)) ++durable;
  });
  // The first thread is the writer once the journal is no longer idle.
  while (journal.syncs() == 0 && flushes == 0) std::this_thread::yield();
  for (int i = 2; i <= kThreads; ++i) {
    threads.emplace_back([&, i] {
      uint64_t seq = journal.Append(Add(i));
      std::string why;
      if (journal.WaitDurable(seq, &why)) ++durable;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(durable, kThreads);
  EXPECT_EQ(journal.syncs(), 2u);  // one for the first, one for the rest
  EXPECT_EQ(journal.durable_seq(), static_cast<uint64_t>(kThreads));
  EXPECT_EQ(journal.bytes(), dir.Read("tasks.journal").size());
}

TEST(TaskJournalGroupCommit, ConcurrentRegistrationsAllSurviveWithCompaction) {
  ScratchDir dir;
  constexpr int kThreads = 8, kEach = 60;
  {
    TaskApiOptions options;
    options.min_compaction_bytes = 2'000;  // compacts every ~30 lines
    Instance exporter(dir.path(), options);
    std::atomic<int> created{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          int64_t id = 1 + t * kEach + i;
          if (exporter.Post(id).status == 201) ++created;
          // Every third one comes and goes again.
          if (id % 3 == 0) {
            EXPECT_EQ(exporter.Delete(id).status, 204);
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(created, kThreads * kEach);
    EXPECT_LT(exporter.api().journal().syncs(),
              static_cast<uint64_t>(kThreads * kEach * 4 / 3) + 50);
  }
  Instance restarted(dir.path());
  ASSERT_TRUE(restarted.loaded()) << restarted.load_error();
  std::vector<std::string> tasks = restarted.Tasks();
  EXPECT_EQ(tasks.size(), static_cast<size_t>(kThreads * kEach * 2 / 3));
  for (int64_t id = 1; id <= kThreads * kEach; ++id) {
    bool present =
        std::find(tasks.begin(), tasks.end(),
                  std::to_string(id) + ":" + std::to_string(id)) != tasks.end();
    EXPECT_EQ(present, id % 3 != 0) << id;
  }
}

TEST(TaskJournalFailure, AFailedFlushFailsItsBatchAndCutsTheFileBack) {
  ScratchDir dir;
  std::atomic<bool> fail{false};
  JournalOptions options;
  options.sync = [&](WritableFile& file) {
    return fail ? FileStatus::FromErrno(EIO) : file.Sync();
  };
  TaskJournal journal(LocalFileSystem(), dir.path() + "/tasks.journal",
                      options);
  std::string error;
  ASSERT_TRUE(journal.Open(0, &error)) << error;
  ASSERT_TRUE(journal.WaitDurable(journal.Append(Add(1)), &error)) << error;
  fail = true;
  uint64_t second = journal.Append(Add(2));
  EXPECT_FALSE(journal.WaitDurable(second, &error));
  EXPECT_THAT(error, HasSubstr("cannot flush"));
  EXPECT_EQ(journal.failed_from(), second);
  // Appended before Recover: failed too, without touching the file.
  uint64_t third = journal.Append(Add(3));
  EXPECT_FALSE(journal.WaitDurable(third, &error));
  EXPECT_EQ(dir.Read("tasks.journal"), Add(1));
  fail = false;
  journal.Recover();
  EXPECT_FALSE(journal.WaitDurable(second, &error));
  ASSERT_TRUE(journal.WaitDurable(journal.Append(Add(4)), &error)) << error;
  EXPECT_EQ(dir.Read("tasks.journal"), Add(1) + Add(4));
  EXPECT_FALSE(journal.broken());
}

TEST(TaskJournalFailure, TheApiAnswers500AndUndoesTheChange) {
  ScratchDir dir;
  auto fail = std::make_shared<std::atomic<bool>>(false);
  TaskApiOptions options = Instance::Manual();
  options.journal.sync = [fail](WritableFile& file) {
    return *fail ? FileStatus::FromErrno(EIO) : file.Sync();
  };
  {
    Instance exporter(dir.path(), options);
    EXPECT_EQ(exporter.Post(1).status, 201);
    *fail = true;
    ApiResponse failed = exporter.Post(2);
    EXPECT_EQ(failed.status, 500);
    EXPECT_THAT(failed.body, HasSubstr("could not be stored"));
    EXPECT_EQ(exporter.Delete(1).status, 500);
    EXPECT_THAT(exporter.Tasks(), ElementsAre("1:1"));
    *fail = false;
    EXPECT_EQ(exporter.Post(2).status, 201);
  }
  Instance restarted(dir.path());
  EXPECT_THAT(restarted.Tasks(), ElementsAre("1:1", "2:2"));
}

}  // namespace
}  // namespace sas::discovery
