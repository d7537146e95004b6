#include "poll/task_store.h"

#include <gtest/gtest.h>

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
  TaskId a = store.Add({{"prod", 1, std::nullopt}, "one"});
  TaskId b = store.Add({{"prod", 1, std::nullopt}, "renamed"});
  TaskId c = store.Add({{"prod", 1, 77}, "member"});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Definition(a)->name, "one");
}

TEST(TaskStore, ReadyOnlyAfterEveryTaskWasPolled) {
  TaskStore store(std::chrono::hours(1));
  TaskId a = store.Add({{"prod", 1, std::nullopt}, "a"});
  TaskId b = store.Add({{"prod", 2, std::nullopt}, "b"});
  EXPECT_FALSE(store.AllPolledOnce());
  store.RecordSuccess(a, Info(10, "exporting"), WallTime{});
  EXPECT_FALSE(store.AllPolledOnce());
  store.RecordFailure(b, {"timeout", "", "", 0, {}}, WallTime{});
  EXPECT_TRUE(store.AllPolledOnce());
}

TEST(TaskStore, FailureKeepsLastValuesAndReportsPreviousCode) {
  TaskStore store(std::chrono::hours(1));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"});
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
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"});
  WallTime done(std::chrono::seconds(1000));
  store.RecordSuccess(id, Info(100, "success"), done);
  EXPECT_FALSE(store.NeedsPolling(id));
  store.ExpireFinished(done + std::chrono::minutes(9));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(*store.Snapshot().at(0).completed_at, done);
  store.ExpireFinished(done + std::chrono::minutes(10));
  EXPECT_EQ(store.size(), 0u);
}

TEST(TaskStore, UnknownStatusIsKeptAndClassified) {
  TaskStore store(std::chrono::hours(1));
  TaskId id = store.Add({{"prod", 1, std::nullopt}, "a"});
  store.RecordSuccess(id, Info(30, "failed"), WallTime{});
  TaskSnapshot s = store.Snapshot().at(0);
  EXPECT_EQ(s.state, ExportState::kUnknown);
  EXPECT_EQ(s.status, "failed");
  EXPECT_TRUE(store.NeedsPolling(id));
}

TEST(TaskStore, RemoveForgetsTheTask) {
  TaskStore store(std::chrono::hours(1));
  store.Add({{"prod", 1, std::nullopt}, "a"});
  EXPECT_TRUE(store.Remove({"prod", 1, std::nullopt}));
  EXPECT_FALSE(store.Remove({"prod", 1, std::nullopt}));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.AllPolledOnce());
}

}  // namespace
}  // namespace sas::poll
