#include "poll/task_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sas::poll {
namespace {

aliyun::ExportInfo Info(int progress, const std::string& status) {
  aliyun::ExportInfo info;
  info.id = 1;
  info.progress = progress;
  info.current_count = progress;
  info.total_count = 100;
  info.export_status = status;
  info.file_name = "f";
  return info;
}

TEST(TaskStore, SameKeyIsTrackedOnce) {
  TaskStore store(std::chrono::hours(1));
  TaskId a = store.Add({{"prod", 1, std::nullopt}, "one"}, WallTime{});
  TaskId b = store.Add({{"prod", 1, std::nullopt}, "renamed"}, WallTime{});
  TaskId c = store.Add({{"prod", 1, 77}, "member"}, WallTime{});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Definition(a)->name, "one");
}

// What a cache of rendered text relies on: the revisions move exactly when
// what the snapshot shows moves.
TEST(TaskStore, RevisionsMoveWithChangesOnly) {
  TaskStore store(std::chrono::hours(1));
  TaskKey key{"prod", 1, std::nullopt};
  TaskId id = store.Add({key, "one"}, WallTime{});
  store.Add({{"prod", 2, std::nullopt}, "two"}, WallTime{});
  auto task = [&] { return store.Snapshot().at(0); };
  EXPECT_EQ(task().id, id);
  uint64_t added = task().revision;
  EXPECT_GT(added, 0u);

  auto t = [](int seconds) { return WallTime(std::chrono::seconds(seconds)); };
  store.RecordSuccess(id, Info(10, "exporting"), t(1));
  uint64_t polled = task().revision;
  uint64_t succeeded = task().success_revision;
  EXPECT_GT(polled, added);
  EXPECT_GT(task().progress_revision, 0u);
  EXPECT_GT(succeeded, 0u);

  // The same answer later: only the success time moves.
  store.RecordSuccess(id, Info(10, "exporting"), t(2));
  EXPECT_EQ(task().revision, polled);
  EXPECT_GT(task().success_revision, succeeded);
  succeeded = task().success_revision;

  // New progress: the progress fields' revision moves, not the others'.
  uint64_t progressed = task().progress_revision;
  store.RecordSuccess(id, Info(20, "exporting"), t(3));
  EXPECT_EQ(task().revision, polled);
  EXPECT_GT(task().progress_revision, progressed);
  store.RecordSuccess(id, Info(20, "success"), t(3));
  EXPECT_GT(task().revision, polled);
  polled = task().revision;

  // A failure, then the same failure again.
  aliyun::ApiError error{"Throttling", "slow down"};
  store.RecordFailure(id, error, t(4));
  EXPECT_GT(task().revision, polled);
  polled = task().revision;
  store.RecordFailure(id, error, t(5));
  EXPECT_EQ(task().revision, polled);
  EXPECT_GT(task().success_revision, 0u);

  ASSERT_TRUE(store.Rename(key, "one"));
  EXPECT_EQ(task().revision, polled);
  ASSERT_TRUE(store.Rename(key, "uno"));
  EXPECT_GT(task().revision, polled);
}

TEST(TaskStore, ARemovedTaskAddedAgainIsANewTask) {
  TaskStore store(std::chrono::hours(1));
  TaskKey key{"prod", 1, std::nullopt};
  TaskId first = store.Add({key, "one"}, WallTime{});
  ASSERT_TRUE(store.Remove(key));
  TaskId second = store.Add({key, "one"}, WallTime{});
  EXPECT_NE(first, second);
  EXPECT_EQ(store.Find(key), second);
  EXPECT_EQ(store.Snapshot().at(0).id, second);
}

TEST(TaskStore, ReadyOnlyAfterEveryTaskWasPolled) {
  TaskStore store(std::chrono::hours(1));
  TaskId a = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  TaskId b = store.Add({{"prod", 2, std::nullopt}, "b"}, WallTime{});
  EXPECT_FALSE(store.AllPolledOnce());
  store.RecordSuccess(a, Info(10, "exporting"), WallTime{});
  EXPECT_FALSE(store.AllPolledOnce());
  store.RecordFailure(b, {"timeout", "", "", 0, {}}, WallTime{});
  EXPECT_TRUE(store.AllPolledOnce());
}

TEST(TaskStore, PolledOrGoneKeepsOnlyTasksStillAwaitingTheirFirstPoll) {
  TaskStore store(std::chrono::hours(1));
  TaskId a = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  TaskId b = store.Add({{"prod", 2, std::nullopt}, "b"}, WallTime{});
  TaskId c = store.Add({{"prod", 3, std::nullopt}, "c"}, WallTime{});
  std::vector<TaskId> awaited = store.Ids();
  EXPECT_EQ(awaited, (std::vector<TaskId>{a, b, c}));
  store.RecordSuccess(a, Info(10, "exporting"), WallTime{});
  store.Remove({"prod", 3, std::nullopt});
  store.Add({{"prod", 4, std::nullopt}, "later"}, WallTime{});  // not awaited
  EXPECT_FALSE(store.PolledOrGone(&awaited));
  EXPECT_EQ(awaited, std::vector<TaskId>{b});
  store.RecordFailure(b, {"timeout", "", "", 0, {}}, WallTime{});
  EXPECT_TRUE(store.PolledOrGone(&awaited));
  EXPECT_FALSE(store.AllPolledOnce());  // the later task
}

TEST(TaskStore, FailureKeepsLastValuesAndReportsPreviousCode) {
  TaskStore store(std::chrono::hours(1));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  store.RecordSuccess(id, Info(40, "exporting"),
                      WallTime(std::chrono::seconds(5)));
  auto previous = store.RecordFailure(id, {"ServerError", "m", "", 500, {}},
                                      WallTime(std::chrono::seconds(9)));
  ASSERT_TRUE(previous.has_value());
  EXPECT_EQ(*previous, "");
  previous = store.RecordFailure(id, {"ServerError", "m", "", 500, {}},
                                 WallTime(std::chrono::seconds(10)));
  EXPECT_EQ(*previous, "ServerError");
  TaskSnapshot s = store.Snapshot().at(0);
  EXPECT_FALSE(s.up);
  EXPECT_TRUE(s.has_data);
  EXPECT_EQ(s.progress, 40);
  EXPECT_EQ(s.last_success, WallTime(std::chrono::seconds(5)));
  EXPECT_EQ(s.last_error_code, "ServerError");
  EXPECT_FALSE(store.RecordFailure(999, {"x", "", "", 0, {}}, WallTime{}));
}

TEST(TaskStore, FinishedTaskIsKeptForRetentionThenForgotten) {
  TaskStore store(std::chrono::minutes(10));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  WallTime done(std::chrono::seconds(1000));
  store.RecordSuccess(id, Info(100, "success"), done);
  EXPECT_FALSE(store.NeedsPolling(id));
  store.ExpireFinished(done + std::chrono::minutes(9));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(*store.Snapshot().at(0).completed_at, done);
  store.ExpireFinished(done + std::chrono::minutes(10));
  EXPECT_EQ(store.size(), 0u);
}

TEST(TaskStore, RenameAndRetentionChangeInPlace) {
  TaskStore store(std::chrono::minutes(10));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  WallTime done(std::chrono::seconds(1000));
  store.RecordSuccess(id, Info(100, "success"), done);
  EXPECT_TRUE(store.Rename({"prod", 1, std::nullopt}, "b"));
  EXPECT_FALSE(store.Rename({"prod", 2, std::nullopt}, "b"));
  EXPECT_EQ(store.Definition(id)->name, "b");
  EXPECT_EQ(store.Snapshot().at(0).progress, 100);
  // A shorter retention applies to the task finished already.
  store.SetFinishedRetention(std::chrono::minutes(1));
  store.ExpireFinished(done + std::chrono::minutes(1));
  EXPECT_EQ(store.size(), 0u);
}

TEST(TaskStore, HugeRetentionKeepsTheTaskInsteadOfOverflowing) {
  TaskStore store(Millis(std::chrono::hours(2562048)));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  WallTime done(std::chrono::seconds(1000));
  store.RecordSuccess(id, Info(100, "success"), done);
  store.ExpireFinished(done + std::chrono::hours(24 * 365));
  EXPECT_EQ(store.size(), 1u);
  TaskStore forever(Millis::max());
  id = forever.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  forever.RecordSuccess(id, Info(100, "success"), done);
  forever.ExpireFinished(WallTime::max() - std::chrono::hours(1));
  EXPECT_EQ(forever.size(), 1u);
}

TEST(TaskStore, UnknownStatusIsKeptAndClassified) {
  TaskStore store(std::chrono::hours(1));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  store.RecordSuccess(id, Info(30, "failed"), WallTime{});
  TaskSnapshot s = store.Snapshot().at(0);
  EXPECT_EQ(s.state, ExportState::kUnknown);
  EXPECT_EQ(s.status, "failed");
  EXPECT_TRUE(store.NeedsPolling(id));
}

TEST(TaskStore, RemoveForgetsTheTask) {
  TaskStore store(std::chrono::hours(1));
  store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  EXPECT_TRUE(store.Remove({"prod", 1, std::nullopt}));
  EXPECT_FALSE(store.Remove({"prod", 1, std::nullopt}));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.AllPolledOnce());
}

}  // namespace
}  // namespace sas::poll

namespace sas::poll {
namespace {

TEST(TaskStore, LastProgressMovesOnlyWhenProgressOrCountChanges) {
  TaskStore store(std::chrono::hours(1));
  WallTime seen(std::chrono::seconds(100));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, seen);
  EXPECT_EQ(store.Snapshot()[0].first_seen, seen);
  EXPECT_EQ(store.Snapshot()[0].last_progress, seen);
  aliyun::ExportInfo info;
  info.progress = 10;
  info.current_count = 5;
  info.total_count = 50;
  info.export_status = "exporting";
  store.RecordSuccess(id, info, WallTime(std::chrono::seconds(200)));
  EXPECT_EQ(store.Snapshot()[0].last_progress,
            WallTime(std::chrono::seconds(200)));
  store.RecordSuccess(id, info, WallTime(std::chrono::seconds(300)));
  EXPECT_EQ(store.Snapshot()[0].last_progress,
            WallTime(std::chrono::seconds(200)));
  info.current_count = 6;  // entries moved, percent did not
  store.RecordSuccess(id, info, WallTime(std::chrono::seconds(400)));
  EXPECT_EQ(store.Snapshot()[0].last_progress,
            WallTime(std::chrono::seconds(400)));
  // Adding the same task again keeps its clocks.
  store.Add({{"prod", 1, std::nullopt}, "a"},
            WallTime(std::chrono::seconds(999)));
  EXPECT_EQ(store.Snapshot()[0].first_seen, seen);
}

}  // namespace
}  // namespace sas::poll

namespace sas::poll {
namespace {

TEST(TaskStore, RememberedClocksSurviveARestart) {
  WallTime seen(std::chrono::seconds(100));
  WallTime moved(std::chrono::seconds(500));
  RememberedTasks remembered;
  remembered[{"prod", 1, std::nullopt}] = {seen, moved, std::nullopt,
                                           true, 40,    400};
  remembered[{"prod", 2, std::nullopt}] = {
      seen, moved, WallTime(std::chrono::seconds(600)), true, 100, 1000};
  TaskStore store(std::chrono::hours(1));
  store.Remember(remembered);
  TaskId exporting = store.Add({{"prod", 1, std::nullopt}, "a"},
                               WallTime(std::chrono::seconds(900)));
  TaskId done = store.Add({{"prod", 2, std::nullopt}, "b"},
                          WallTime(std::chrono::seconds(900)));
  EXPECT_EQ(store.Snapshot()[0].first_seen, seen);
  aliyun::ExportInfo info;
  info.progress = 40;
  info.current_count = 400;
  info.export_status = "exporting";
  store.RecordSuccess(exporting, info, WallTime(std::chrono::seconds(1000)));
  // Same values as before the restart: no progress, the clock stays.
  EXPECT_EQ(store.Snapshot()[0].last_progress, moved);
  // A completed task is polled once more, keeps its completion time and
  // expires from it.
  EXPECT_TRUE(store.NeedsPolling(done));
  info.progress = 100;
  info.current_count = 1000;
  info.export_status = "success";
  store.RecordSuccess(done, info, WallTime(std::chrono::seconds(1000)));
  EXPECT_FALSE(store.NeedsPolling(done));
  EXPECT_EQ(*store.Snapshot()[1].completed_at,
            WallTime(std::chrono::seconds(600)));
  store.ExpireFinished(
      WallTime(std::chrono::seconds(600) + std::chrono::hours(1)));
  EXPECT_EQ(store.size(), 1u);
}

TEST(StateFile, RoundTripsAndSetsABrokenFileAside) {
  std::string dir =
      ::testing::TempDir() + "/state-" +
      std::to_string(::testing::UnitTest::GetInstance()->random_seed());
  std::string path = dir + "/state.json";
  TaskSnapshot task;
  task.definition = {{"prod", 7, 99}, "x"};
  task.first_seen = WallTime(std::chrono::seconds(100));
  task.last_progress = WallTime(std::chrono::milliseconds(200500));
  task.has_data = true;
  task.progress = 5;
  task.current_count = 50;
  std::string error;
  ASSERT_TRUE(SaveStateFile(LocalFileSystem(), path, {task}, &error)) << error;
  RememberedTasks loaded;
  ASSERT_TRUE(LoadStateFile(LocalFileSystem(), path, &loaded, &error)) << error;
  ASSERT_EQ(loaded.size(), 1u);
  const RememberedTask& memory = loaded.at({"prod", 7, 99});
  EXPECT_EQ(memory.first_seen, task.first_seen);
  EXPECT_EQ(memory.last_progress, task.last_progress);
  EXPECT_EQ(memory.progress, 5);

  std::ofstream(path, std::ios::trunc) << "{\"version\": 1, \"tasks\": [{}]}";
  loaded.clear();
  EXPECT_FALSE(LoadStateFile(LocalFileSystem(), path, &loaded, &error));
  EXPECT_THAT(error, ::testing::HasSubstr("set aside as " + path + ".broken-"));
  EXPECT_TRUE(loaded.empty());
  EXPECT_FALSE(std::filesystem::exists(path));
  // Missing: an empty state, not an error.
  EXPECT_TRUE(LoadStateFile(LocalFileSystem(), path, &loaded, &error));
  std::filesystem::remove_all(dir);
}

TEST(StateFile, OutOfRangeOrIllTypedValuesSetTheFileAside) {
  std::string dir =
      ::testing::TempDir() + "/state-range-" +
      std::to_string(::testing::UnitTest::GetInstance()->random_seed());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/state.json";
  const std::string good_rest =
      R"("account": "prod", "export_id": 7, "last_progress": 100)";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"version": 1, "tasks": [{"first_seen": 1e13, )" + good_rest + "}]}",
       "task 1: \"first_seen\" must be Unix seconds within "
       "1970-01-01T00:00:00Z..2199-12-31T23:59:59Z"},
      {R"({"version": 1, "tasks": [{"first_seen": 1e400, )" + good_rest + "}]}",
       "not a state file"},
      {R"({"version": 1, "tasks": [{"first_seen": -5, )" + good_rest + "}]}",
       "task 1: \"first_seen\" must be Unix seconds"},
      {R"({"version": 1, "tasks": [{"first_seen": "NaN", )" + good_rest + "}]}",
       "task 1: \"first_seen\" must be Unix seconds"},
      {R"({"version": 1, "tasks": [{"first_seen": 1, "completed_at": [], )" +
           good_rest + "}]}",
       "task 1: \"completed_at\" must be Unix seconds"},
      {R"({"version": 1, "tasks": [{"first_seen": 1, "progress": 1.5, )"
       R"("current_count": 1, )" +
           good_rest + "}]}",
       "task 1: \"progress\" must be an integer in "},
      {R"({"version": 1, "tasks": [{"first_seen": 1, "progress": 5, )"
       R"("current_count": "many", )" +
           good_rest + "}]}",
       "task 1: \"current_count\" must be an integer in "},
      {R"({"version": 1, "tasks": [{"first_seen": 1, "action": "Nope", )" +
           good_rest + "}]}",
       "task 1: \"action\" must be one of DescribeExportInfo, "},
      {R"({"version": 1, "tasks": [{"first_seen": 1, "account": "prod", )"
       R"("export_id": 1e300, "last_progress": 1}]})",
       "task 1: \"export_id\" must be an integer in 1..9223372036854775807"},
      {R"({"version": 1, "tasks": [{"first_seen": 1, "rd_account_id": -1, )" +
           good_rest + "}]}",
       "task 1: \"rd_account_id\" must be an integer in 1.."},
      {R"({"version": 1, "tasks": [7]})", "task 1: expected an object"},
      {R"({"version": "1", "tasks": []})", "unknown state file version"},
  };
  for (const auto& [content, why] : cases) {
    std::ofstream(path, std::ios::trunc) << content;
    RememberedTasks loaded;
    std::string error;
    EXPECT_FALSE(LoadStateFile(LocalFileSystem(), path, &loaded, &error))
        << content;
    EXPECT_THAT(error, ::testing::HasSubstr(path + ": " + why)) << content;
    EXPECT_THAT(error, ::testing::HasSubstr("set aside as")) << content;
    EXPECT_TRUE(loaded.empty());
    EXPECT_FALSE(std::filesystem::exists(path)) << content;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sas::poll

namespace sas::poll {
namespace {

using aliyun::ExportAction;

TEST(ClassifyExportStatus, EachActionsDocumentedValues) {
  struct Case {
    ExportAction action;
    const char* status;
    ExportState state;
  };
  const Case cases[] = {
      {ExportAction::kDescribeExportInfo, "init", ExportState::kInit},
      {ExportAction::kDescribeExportInfo, "exporting", ExportState::kExporting},
      {ExportAction::kDescribeExportInfo, "success", ExportState::kSuccess},
      {ExportAction::kDescribeExportInfo, "failed", ExportState::kUnknown},
      {ExportAction::kDescribeExportInfo, "pending", ExportState::kUnknown},
      {ExportAction::kDescribeVulExportInfo, "init", ExportState::kInit},
      {ExportAction::kDescribeVulExportInfo, "success", ExportState::kSuccess},
      {ExportAction::kDescribeWarningExportInfo, "exporting",
       ExportState::kExporting},
      {ExportAction::kDescribeHcExportInfo, "exporting",
       ExportState::kExporting},
      {ExportAction::kDescribeHcExportInfo, "success", ExportState::kSuccess},
      {ExportAction::kDescribeHcExportInfo, "init", ExportState::kUnknown},
      {ExportAction::kDescribeSuspEventExportInfo, "pending",
       ExportState::kPending},
      {ExportAction::kDescribeSuspEventExportInfo, "exporting",
       ExportState::kExporting},
      {ExportAction::kDescribeSuspEventExportInfo, "success",
       ExportState::kSuccess},
      {ExportAction::kDescribeSuspEventExportInfo, "failed",
       ExportState::kFailed},
      {ExportAction::kDescribeSuspEventExportInfo, "init",
       ExportState::kUnknown},
      {ExportAction::kDescribeReportExport, "-1", ExportState::kFailed},
      {ExportAction::kDescribeReportExport, "0", ExportState::kInit},
      {ExportAction::kDescribeReportExport, "1", ExportState::kExporting},
      {ExportAction::kDescribeReportExport, "2", ExportState::kSuccess},
      {ExportAction::kDescribeReportExport, "success", ExportState::kUnknown},
      {ExportAction::kDescribeReportExport, "3", ExportState::kUnknown},
      {ExportAction::kDescribeExportInfo, "", ExportState::kUnknown},
      {ExportAction::kDescribeExportInfo, "SUCCESS", ExportState::kUnknown},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyExportStatus(c.action, c.status), c.state)
        << aliyun::ExportActionName(c.action) << " " << c.status;
  }
  EXPECT_EQ(kExportStateCount, 6);
}

TEST(TaskStore, FailedIsFinishedKeptForRetentionAndCompleted) {
  TaskStore store(std::chrono::seconds(60));
  TaskKey key{"prod", 5, std::nullopt,
              ExportAction::kDescribeSuspEventExportInfo};
  TaskId id = store.Add({key, "s"}, WallTime{});
  aliyun::ExportInfo info;
  info.export_status = "failed";
  WallTime done(std::chrono::seconds(10));
  store.RecordSuccess(id, info, done);
  EXPECT_FALSE(store.NeedsPolling(id));
  TaskSnapshot s = store.Snapshot().at(0);
  EXPECT_EQ(s.state, ExportState::kFailed);
  EXPECT_EQ(s.completed_at, done);
  store.ExpireFinished(done + std::chrono::seconds(59));
  EXPECT_EQ(store.size(), 1u);
  store.ExpireFinished(done + std::chrono::seconds(60));
  EXPECT_EQ(store.size(), 0u);
}

TEST(TaskStore, SameIdUnderTwoActionsIsTwoTasks) {
  TaskStore store(std::chrono::hours(1));
  TaskId a = store.Add({{"prod", 7, std::nullopt}, "a"}, WallTime{});
  TaskId b = store.Add(
      {{"prod", 7, std::nullopt, ExportAction::kDescribeVulExportInfo}, "b"},
      WallTime{});
  EXPECT_NE(a, b);
  EXPECT_EQ(store.size(), 2u);
}

TEST(TaskStore, SparseAnswerDropsMissingFieldsAndKeepsProgressClock) {
  TaskStore store(std::chrono::hours(1));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  store.RecordSuccess(id, Info(40, "exporting"),
                      WallTime(std::chrono::seconds(5)));
  aliyun::ExportInfo sparse;
  sparse.export_status = "exporting";
  store.RecordSuccess(id, sparse, WallTime(std::chrono::seconds(9)));
  TaskSnapshot s = store.Snapshot().at(0);
  EXPECT_TRUE(s.up);
  EXPECT_FALSE(s.progress);
  EXPECT_FALSE(s.current_count);
  EXPECT_FALSE(s.total_count);
  EXPECT_FALSE(s.file_name);
  EXPECT_EQ(s.state, ExportState::kExporting);
  // Absent fields are not progress.
  EXPECT_EQ(s.last_progress, WallTime(std::chrono::seconds(5)));
  // The same values as before the sparse answer are not progress either.
  store.RecordSuccess(id, Info(40, "exporting"),
                      WallTime(std::chrono::seconds(12)));
  EXPECT_EQ(store.Snapshot().at(0).last_progress,
            WallTime(std::chrono::seconds(5)));
  // No status at all: no state.
  aliyun::ExportInfo no_status;
  no_status.progress = 41;
  store.RecordSuccess(id, no_status, WallTime(std::chrono::seconds(15)));
  s = store.Snapshot().at(0);
  EXPECT_FALSE(s.state);
  EXPECT_EQ(s.last_progress, WallTime(std::chrono::seconds(15)));
}

TEST(TaskStore, UnknownStatusIsReportedOncePerTask) {
  TaskStore store(std::chrono::hours(1));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"}, WallTime{});
  bool reported = false;
  store.RecordSuccess(id, Info(1, "EXPIRED"), WallTime{}, &reported);
  EXPECT_TRUE(reported);
  reported = false;
  store.RecordSuccess(id, Info(1, "EXPIRED"), WallTime{}, &reported);
  EXPECT_FALSE(reported);
  store.RecordSuccess(id, Info(1, "other"), WallTime{}, &reported);
  EXPECT_FALSE(reported);
}

std::string TempPath(const std::string& name) {
  std::string dir =
      ::testing::TempDir() + "/" + name + "-" +
      std::to_string(::testing::UnitTest::GetInstance()->random_seed());
  std::filesystem::create_directories(dir);
  return dir + "/state.json";
}

TEST(StateFile, PreviousVersionsFormatLoadsAsDescribeExportInfo) {
  // Written by the version before actions: no "action", progress 0..100.
  std::string path = TempPath("state-old");
  std::ofstream(path) << R"({"version": 1, "tasks": [
    {"account": "prod", "export_id": 7, "rd_account_id": 99,
     "first_seen": 100, "last_progress": 200.5, "progress": 5,
     "current_count": 50},
    {"account": "prod", "export_id": 8, "first_seen": 100,
     "last_progress": 100, "completed_at": 300}]})";
  RememberedTasks loaded;
  std::string error;
  ASSERT_TRUE(LoadStateFile(LocalFileSystem(), path, &loaded, &error)) << error;
  ASSERT_EQ(loaded.size(), 2u);
  const RememberedTask& first = loaded.at(TaskKey{"prod", 7, 99});
  EXPECT_TRUE(first.progress_known);
  EXPECT_EQ(first.progress, 5);
  EXPECT_EQ(first.current_count, 50);
  const RememberedTask& second = loaded.at(TaskKey{"prod", 8, std::nullopt});
  EXPECT_FALSE(second.progress_known);
  EXPECT_EQ(second.completed_at, WallTime(std::chrono::seconds(300)));
}

TEST(StateFile, RoundTripsTheActionAndAbsentFields) {
  std::string path = TempPath("state-action");
  TaskSnapshot task;
  task.definition = {
      {"prod", 7, std::nullopt, ExportAction::kDescribeReportExport}, "r"};
  task.first_seen = WallTime(std::chrono::seconds(100));
  task.last_progress = WallTime(std::chrono::seconds(100));
  task.has_data = true;  // but the answers carried no Progress
  std::string error;
  ASSERT_TRUE(SaveStateFile(LocalFileSystem(), path, {task}, &error)) << error;
  RememberedTasks loaded;
  ASSERT_TRUE(LoadStateFile(LocalFileSystem(), path, &loaded, &error)) << error;
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded.begin()->first.action, ExportAction::kDescribeReportExport);
  EXPECT_TRUE(loaded.begin()->second.progress_known);
  EXPECT_FALSE(loaded.begin()->second.progress);
}

}  // namespace
}  // namespace sas::poll
