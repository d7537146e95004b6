#include "metrics/compressed_task_families.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "metrics/exposition.h"
#include "metrics/task_metrics.h"
#include "poll/task_store.h"
#include "support/gzip.h"

namespace sas::metrics {
namespace {

using poll::TaskKey;
using testing::Gunzip;

constexpr int kFamilies = kTaskFamilyCount;

aliyun::ExportInfo Answer(int64_t progress) {
  aliyun::ExportInfo info;
  info.progress = progress;
  info.current_count = progress * 10;
  info.total_count = 1000;
  info.export_status = "exporting";
  info.file_name = "export_file";
  return info;
}

WallTime At(int64_t seconds) { return WallTime(std::chrono::seconds(seconds)); }

// A store of `count` polled tasks over two accounts, added in an order
// unlike their key order.
class CompressedTaskFamiliesTest : public ::testing::Test {
 protected:
  void Fill(int count) {
    for (int i = 0; i < count; ++i) {
      int64_t export_id = (i * 7919) % 100003;
      TaskKey key{i % 2 == 0 ? "prod" : "staging", export_id, std::nullopt};
      poll::TaskId id = store_.Add({key, "task " + std::to_string(i)}, At(1));
      store_.RecordSuccess(id, Answer(i % 100), At(100 + i));
      keys_.push_back(key);
    }
  }

  // The task families as CompressedTaskFamilies gives them, decompressed.
  std::string Families(CompressedTaskFamilies& families) {
    gzip::MemberWriter member;
    families.AppendTo(store_.Snapshot(), member);
    return Gunzip(member.Finish()).value_or("not one valid gzip member");
  }

  // The same text from the uncached renderer.
  std::string Expected() {
    std::string out;
    AppendTaskMetrics(store_.Snapshot(), out);
    return out.substr(0, out.find("# HELP aliyun_sas_exporter_tasks "));
  }

  poll::TaskStore store_{std::chrono::hours(1)};
  std::vector<TaskKey> keys_;
};

TEST_F(CompressedTaskFamiliesTest, SameTextAsTheRendererOnAnyNumberOfThreads) {
  Fill(1500);
  CompressedTaskFamilies one(1), three(3);
  std::string text = Families(one);
  EXPECT_EQ(text, Expected());
  EXPECT_EQ(Families(three), text);
  EXPECT_GT(one.last_stats().chunks, 3u);
}

TEST_F(CompressedTaskFamiliesTest, NoTasksGiveTheHeadersOnly) {
  CompressedTaskFamilies families(1);
  std::string text = Families(families);
  EXPECT_EQ(text, Expected());
  EXPECT_EQ(families.last_stats().chunks, 0u);
}

TEST_F(CompressedTaskFamiliesTest, EachFamilyHeaderOnceAndSeriesInKeyOrder) {
  Fill(1000);
  CompressedTaskFamilies families(2);
  std::string text = Families(families);
  for (std::string_view name :
       {"aliyun_sas_export_up", "aliyun_sas_export_status",
        "aliyun_sas_export_last_success_timestamp_seconds"}) {
    std::string help = "# HELP " + std::string(name) + " ";
    size_t first = text.find(help);
    ASSERT_NE(first, std::string::npos) << name;
    EXPECT_EQ(text.find(help, first + 1), std::string::npos) << name;
  }
  // prod's series all come before staging's in every family.
  size_t last_prod = text.rfind("aliyun_sas_export_up{account=\"prod\"");
  size_t first_staging = text.find("aliyun_sas_export_up{account=\"staging\"");
  EXPECT_LT(last_prod, first_staging);
}

TEST_F(CompressedTaskFamiliesTest, UnchangedTasksAreNotCompressedAgain) {
  Fill(1000);
  CompressedTaskFamilies families(1);
  std::string first = Families(families);
  size_t chunks = families.last_stats().chunks;
  EXPECT_EQ(families.last_stats().pieces_compressed, chunks * kFamilies);
  EXPECT_EQ(Families(families), first);
  EXPECT_EQ(families.last_stats().pieces_compressed, 0u);
  EXPECT_EQ(families.last_stats().pieces_reused, chunks * kFamilies);
}

// The same answer again moves only last_success: one piece, the
// last-success family of that task's chunk, is compressed again.
TEST_F(CompressedTaskFamiliesTest, APollWithTheSameAnswerRedoesOnePiece) {
  Fill(1000);
  CompressedTaskFamilies families(1);
  Families(families);
  poll::TaskId id = *store_.Find(keys_[10]);
  store_.RecordSuccess(id, Answer(10), At(5000));
  std::string text = Families(families);
  EXPECT_EQ(text, Expected());
  EXPECT_NE(text.find("} 5000\n"), std::string::npos);
  EXPECT_EQ(families.last_stats().pieces_compressed, 1u);
}

// New progress changes the progress, entries, last-progress and
// last-success series: those four pieces of the task's chunk are compressed
// again, no other.
TEST_F(CompressedTaskFamiliesTest, NewProgressRedoesItsFourFamiliesOfItsChunk) {
  Fill(1000);
  CompressedTaskFamilies families(1);
  Families(families);
  store_.RecordSuccess(*store_.Find(keys_[10]), Answer(77), At(5000));
  EXPECT_EQ(Families(families), Expected());
  EXPECT_EQ(families.last_stats().pieces_compressed, 4u);
  EXPECT_EQ(Families(families), Expected());
  EXPECT_EQ(families.last_stats().pieces_compressed, 0u);
}

// Any other change (here: the export finished) redoes every family of the
// task's chunk, and no other chunk.
TEST_F(CompressedTaskFamiliesTest, AFinishedTaskRedoesItsChunk) {
  Fill(1000);
  CompressedTaskFamilies families(1);
  Families(families);
  aliyun::ExportInfo done = Answer(10);
  done.export_status = "success";
  store_.RecordSuccess(*store_.Find(keys_[10]), done, At(5000));
  std::string text = Families(families);
  EXPECT_EQ(text, Expected());
  EXPECT_NE(text.find("aliyun_sas_export_completed_timestamp_seconds{"),
            std::string::npos);
  EXPECT_EQ(families.last_stats().pieces_compressed,
            static_cast<size_t>(kFamilies));
}

TEST_F(CompressedTaskFamiliesTest,
       ARemovedTaskDisappearsAndOnlyItsChunkIsRedone) {
  Fill(1000);
  CompressedTaskFamilies families(1);
  Families(families);
  const TaskKey& removed = keys_[10];
  ASSERT_TRUE(store_.Remove(removed));
  std::string text = Families(families);
  EXPECT_EQ(text, Expected());
  std::string series = "{account=\"" + removed.account +
                       "\",action=\"DescribeExportInfo\",export_id=\"" +
                       std::to_string(removed.export_id) + "\",";
  EXPECT_EQ(text.find(series), std::string::npos);
  // Its chunk, or the chunk before when it started one (the two merge).
  EXPECT_EQ(families.last_stats().pieces_compressed,
            static_cast<size_t>(kFamilies));
}

TEST_F(CompressedTaskFamiliesTest, AnAddedTaskAppearsAndOnlyItsChunkIsRedone) {
  Fill(1000);
  CompressedTaskFamilies families(1);
  Families(families);
  size_t chunks = families.last_stats().chunks;
  TaskKey key{"prod", 123456789, 42};
  store_.Add({key, "late"}, At(9));
  std::string text = Families(families);
  EXPECT_EQ(text, Expected());
  EXPECT_NE(text.find("export_id=\"123456789\",rd_account_id=\"42\""),
            std::string::npos);
  // The chunk it joins; or, when it starts a chunk, the chunk it splits
  // off and the one it starts.
  size_t redone = families.last_stats().pieces_compressed;
  EXPECT_TRUE(
      redone == static_cast<size_t>(kFamilies) ||
      (redone == 2u * kFamilies && families.last_stats().chunks == chunks + 1))
      << redone;
}

TEST_F(CompressedTaskFamiliesTest, RenamingATaskChangesItsInfoSeries) {
  Fill(300);
  CompressedTaskFamilies families(1);
  Families(families);
  ASSERT_TRUE(store_.Rename(keys_[3], "renamed \"task\""));
  std::string text = Families(families);
  EXPECT_EQ(text, Expected());
  EXPECT_NE(text.find("task=\"renamed \\\"task\\\"\""), std::string::npos);
}

TEST(Exposition, GzipPageIsTheTextPage) {
  poll::TaskStore store(std::chrono::hours(1));
  for (int i = 0; i < 700; ++i) {
    poll::TaskId id = store.Add({{"prod", i, std::nullopt}, ""}, At(1));
    store.RecordSuccess(id, Answer(i % 100), At(2));
  }
  prometheus::Registry registry;
  Exposition exposition(registry, store, 2);
  // The process collector's figures move between two renders.
  auto without_process = [](const std::string& page) {
    return page.substr(0, page.find("# HELP process_"));
  };
  for (int round = 0; round < 2; ++round) {
    std::optional<std::string> page = Gunzip(exposition.RenderGzip());
    ASSERT_TRUE(page.has_value());
    EXPECT_EQ(without_process(*page), without_process(exposition.Render()));
  }
  EXPECT_EQ(exposition.TaskFamilyStats().pieces_compressed, 0u);
}

}  // namespace
}  // namespace sas::metrics
