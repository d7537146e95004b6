#include "poll/shard.h"

#include <gtest/gtest.h>

#include <array>

namespace sas::poll {
namespace {

using aliyun::ExportAction;

TEST(Shard, Fnv1a64MatchesThePublishedTestVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Shard, CanonicalIdentitySeparatesEveryField) {
  using namespace std::string_literals;
  EXPECT_EQ(CanonicalTaskIdentity({"prod", 131231, std::nullopt}),
            "prod\0\0DescribeExportInfo\0"
            "131231"s);
  EXPECT_EQ(CanonicalTaskIdentity(
                {"prod", 7, 16670360956, ExportAction::kDescribeVulExportInfo}),
            "prod\0"
            "16670360956\0DescribeVulExportInfo\0"
            "7"s);
}

// These values are a promise: a task must land on the same shard in every
// version, or replicas of different versions would poll it twice or never.
TEST(Shard, HashOfTaskIdentityIsPinned) {
  EXPECT_EQ(TaskIdentityHash({"prod", 131231, std::nullopt}),
            3703071977267042534ULL);
  EXPECT_EQ(TaskIdentityHash({"prod", 131231, 16670360956}),
            1948293487225974195ULL);
  EXPECT_EQ(TaskIdentityHash({"prod", 131231, std::nullopt,
                              ExportAction::kDescribeVulExportInfo}),
            17304554892738631017ULL);
  EXPECT_EQ(TaskIdentityHash({"sim", 1, std::nullopt}), 720685870656463308ULL);
  EXPECT_EQ(
      TaskIdentityHash({"\xe8\xb4\xa6\xe5\x8f\xb7", 9007199254740993,
                        std::nullopt, ExportAction::kDescribeReportExport}),
      2002847712054175457ULL);
}

TEST(Shard, OwnerIsTheHashModuloTheShardCount) {
  TaskKey key{"prod", 131231, std::nullopt};
  EXPECT_EQ((Sharding{0, 3}.OwnerOf(key)), 2);
  EXPECT_EQ((Sharding{0, 7}.OwnerOf(key)), 0);
  EXPECT_TRUE((Sharding{2, 3}.Owns(key)));
  EXPECT_FALSE((Sharding{1, 3}.Owns(key)));
  EXPECT_TRUE(Sharding{}.Owns(key));
  EXPECT_FALSE(Sharding{}.enabled());
}

TEST(Shard, EveryTaskHasExactlyOneOwnerAndTheSplitIsEven) {
  constexpr int kShards = 3;
  std::array<int, kShards> owned{};
  for (int64_t id = 1; id <= 3000; ++id) {
    TaskKey key{"prod", id, std::nullopt};
    int owners = 0;
    for (int shard = 0; shard < kShards; ++shard) {
      if (Sharding{shard, kShards}.Owns(key)) {
        ++owners;
        ++owned[shard];
      }
    }
    EXPECT_EQ(owners, 1) << key.ToString();
  }
  for (int count : owned) {
    EXPECT_GT(count, 850);
    EXPECT_LT(count, 1150);
  }
}

TEST(Shard, ProblemsNameTheFlagAndTheRange) {
  EXPECT_EQ(ShardingProblem(0, 1), "");
  EXPECT_EQ(ShardingProblem(2, 3), "");
  EXPECT_EQ(ShardingProblem(0, 0), "--total-shards must be at least 1, got 0");
  EXPECT_EQ(ShardingProblem(3, 3),
            "--shard must be between 0 and --total-shards - 1 (2), got 3");
  EXPECT_EQ(ShardingProblem(-1, 3),
            "--shard must be between 0 and --total-shards - 1 (2), got -1");
}

}  // namespace
}  // namespace sas::poll
