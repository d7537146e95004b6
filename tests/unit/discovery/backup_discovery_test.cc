#include "discovery/backup_discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

#include "poll/poller.h"
#include "support/fake_clock.h"

namespace sas::discovery {
namespace {

using ::sas::testing::FakeClock;
using ::sas::testing::FakeSleeper;
using ::testing::ElementsAre;

constexpr aliyun::ExportAction kBackUp =
    aliyun::ExportAction::kDescribeBackUpExportInfo;

// Answers pages from a script, recording each request.
class ScriptedLister : public aliyun::BackUpExportLister {
 public:
  struct Request {
    int32_t page;
    int32_t page_size;
  };

  void PushPage(std::vector<aliyun::BackUpExport> exports,
                std::optional<int64_t> total = std::nullopt) {
    aliyun::BackUpExportPage page;
    page.exports = std::move(exports);
    page.total_count = total;
    script_.push_back({std::move(page), 1});
  }
  void PushError(std::string code) {
    aliyun::ApiError error;
    error.code = std::move(code);
    error.message = "injected";
    script_.push_back({std::move(error), 3});
  }

  aliyun::BackUpListResult ListBackUpExports(int32_t page, int32_t page_size,
                                             SteadyTime) override {
    requests_.push_back({page, page_size});
    if (script_.empty()) {
      aliyun::ApiError error;
      error.code = "unscripted";
      return {error, 1};
    }
    aliyun::BackUpListResult result = std::move(script_.front());
    script_.pop_front();
    return result;
  }

  std::vector<Request> requests_;

 private:
  std::deque<aliyun::BackUpListResult> script_;
};

aliyun::BackUpExport Export(int64_t id, std::string status,
                            std::optional<int64_t> progress = std::nullopt,
                            std::optional<int64_t> created_ms = std::nullopt) {
  aliyun::BackUpExport entry;
  entry.info.id = id;
  entry.info.export_status = std::move(status);
  entry.info.progress = progress;
  entry.created_ms = created_ms;
  return entry;
}

class BackUpDiscoveryTest : public ::testing::Test {
 protected:
  BackUpDiscoveryTest() {
    options_.page_size = 2;
    options_.max_pages = 3;
    options_.finished_retention = std::chrono::hours(1);
  }

  BackUpExportDiscovery& Discovery() {
    if (!discovery_) {
      discovery_ = std::make_unique<BackUpExportDiscovery>(
          options_, std::vector<BackUpAccount>{{"prod", &lister_, nullptr}},
          registry_, store_, clock_, sleeper_);
    }
    return *discovery_;
  }

  std::vector<int64_t> TrackedIds() const {
    std::vector<int64_t> ids;
    for (const poll::TaskSnapshot& task : store_.Snapshot()) {
      ids.push_back(task.definition.key.export_id);
    }
    return ids;
  }

  poll::TaskSnapshot Task(int64_t id) const {
    for (const poll::TaskSnapshot& task : store_.Snapshot()) {
      if (task.definition.key.export_id == id) return task;
    }
    ADD_FAILURE() << "task " << id << " not tracked";
    return {};
  }

  int64_t NowMillis() const {
    return static_cast<int64_t>(ToUnixSeconds(clock_.Now()) * 1000);
  }

  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
  poll::TaskStore store_{std::chrono::hours(1)};
  poll::Poller poller_{poll::PollerOptions{}, store_, {}, clock_};
  TaskRegistry registry_{store_, poller_, clock_, {"prod"}, 100};
  ScriptedLister lister_;
  BackUpDiscoveryOptions options_;
  std::unique_ptr<BackUpExportDiscovery> discovery_;
};

TEST_F(BackUpDiscoveryTest, WalksEveryPageAndTracksEachListedExport) {
  lister_.PushPage({Export(9, "exporting", 40), Export(8, "init")}, 3);
  lister_.PushPage({Export(7, "success", 100)}, 3);
  ASSERT_TRUE(Discovery().RunOnce());

  ASSERT_EQ(lister_.requests_.size(), 2u);
  EXPECT_EQ(lister_.requests_[0].page, 1);
  EXPECT_EQ(lister_.requests_[1].page, 2);
  EXPECT_EQ(lister_.requests_[1].page_size, 2);
  EXPECT_THAT(TrackedIds(), ElementsAre(7, 8, 9));
  poll::TaskSnapshot nine = Task(9);
  EXPECT_EQ(nine.definition.key.action, kBackUp);
  EXPECT_TRUE(nine.up);
  EXPECT_EQ(nine.progress, 40);
  EXPECT_EQ(nine.state, poll::ExportState::kExporting);
  EXPECT_EQ(Task(8).state, poll::ExportState::kInit);
  EXPECT_EQ(Task(7).state, poll::ExportState::kSuccess);
  EXPECT_TRUE(Task(7).completed_at.has_value());
  EXPECT_THAT(registry_.SourcesOf({"prod", 9, std::nullopt, kBackUp}),
              ElementsAre("discovered"));
  // Discovered tasks are never handed to the poller.
  EXPECT_EQ(poller_.queued(), 0u);
  EXPECT_TRUE(store_.AllPolledOnce());
}

TEST_F(BackUpDiscoveryTest, ReconfigureSwitchesListersFromTheNextListing) {
  lister_.PushPage({Export(9, "exporting", 40)});
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_EQ(Task(9).first_seen, clock_.Now());
  WallTime first_seen = clock_.Now();
  clock_.Advance(std::chrono::minutes(1));

  // A new client for the account (a reload renewed it), owned by the
  // discovery alone: the task stays with its clock, listed by the new one.
  auto renewed = std::make_shared<ScriptedLister>();
  renewed->PushPage({Export(9, "exporting", 50)});
  Discovery().Reconfigure({{"prod", renewed.get(), nullptr, renewed}},
                          std::chrono::minutes(2), std::chrono::hours(2));
  std::weak_ptr<ScriptedLister> watch = renewed;
  renewed.reset();
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_EQ(lister_.requests_.size(), 1u);
  ASSERT_FALSE(watch.expired());
  EXPECT_EQ(watch.lock()->requests_.size(), 1u);
  EXPECT_EQ(Task(9).progress, 50);
  EXPECT_EQ(Task(9).first_seen, first_seen);

  // Listing turned off: the account's exports go at the next listing.
  Discovery().Reconfigure({}, std::chrono::minutes(2), std::chrono::hours(2));
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_THAT(TrackedIds(), ::testing::IsEmpty());
  EXPECT_TRUE(watch.expired());
}

TEST_F(BackUpDiscoveryTest, ExportsNoLongerListedAreDropped) {
  lister_.PushPage({Export(9, "exporting", 40), Export(8, "exporting", 10)});
  lister_.PushPage({});
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_THAT(TrackedIds(), ElementsAre(8, 9));

  lister_.PushPage({Export(9, "exporting", 60)});
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_THAT(TrackedIds(), ElementsAre(9));
  EXPECT_EQ(Task(9).progress, 60);
}

TEST_F(BackUpDiscoveryTest,
       AFailedListingKeepsTasksAndMarksUnfinishedOnesDown) {
  lister_.PushPage({Export(9, "exporting", 40), Export(7, "success", 100)});
  lister_.PushPage({});
  ASSERT_TRUE(Discovery().RunOnce());

  lister_.PushError("Throttling.User");
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_THAT(TrackedIds(), ElementsAre(7, 9));
  poll::TaskSnapshot nine = Task(9);
  EXPECT_FALSE(nine.up);
  EXPECT_EQ(nine.last_error_code, "Throttling.User");
  EXPECT_EQ(nine.progress, 40);  // the last values stay
  EXPECT_TRUE(Task(7).up);       // finished: not polled, not failed

  lister_.PushPage({Export(9, "exporting", 50)});
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_TRUE(Task(9).up);
}

TEST_F(BackUpDiscoveryTest, OldExportsFirstSeenFinishedAreNotTracked) {
  int64_t two_hours_ago = NowMillis() - 2 * 3600 * 1000;
  int64_t ten_minutes_ago = NowMillis() - 10 * 60 * 1000;
  lister_.PushPage({Export(9, "success", 100, ten_minutes_ago),
                    Export(8, "success", 100, two_hours_ago)});
  lister_.PushPage({Export(7, "exporting", 5, two_hours_ago)});
  ASSERT_TRUE(Discovery().RunOnce());
  // 8 finished before its retention could have started; 7 still runs.
  EXPECT_THAT(TrackedIds(), ElementsAre(7, 9));
  EXPECT_EQ(Task(7).first_seen,
            *WallTimeFromUnixSeconds(static_cast<double>(two_hours_ago) / 1e3));
}

TEST_F(BackUpDiscoveryTest, AnExportWatchedToTheEndStaysForItsRetention) {
  int64_t two_hours_ago = NowMillis() - 2 * 3600 * 1000;
  lister_.PushPage({Export(9, "exporting", 99, two_hours_ago)});
  ASSERT_TRUE(Discovery().RunOnce());
  lister_.PushPage({Export(9, "success", 100, two_hours_ago)});
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_THAT(TrackedIds(), ElementsAre(9));
  EXPECT_EQ(Task(9).state, poll::ExportState::kSuccess);
}

TEST_F(BackUpDiscoveryTest, DuplicatesAcrossPagesCountOnceAndPagesAreBounded) {
  lister_.PushPage({Export(9, "init"), Export(8, "init")}, 1000);
  lister_.PushPage({Export(8, "init"), Export(7, "init")}, 1000);
  lister_.PushPage({Export(6, "init"), Export(5, "init")}, 1000);
  lister_.PushPage({Export(4, "init"), Export(3, "init")}, 1000);
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_EQ(lister_.requests_.size(), 3u);  // max_pages
  EXPECT_THAT(TrackedIds(), ElementsAre(5, 6, 7, 8, 9));
}

TEST_F(BackUpDiscoveryTest, UndocumentedStatusIsUnknown) {
  lister_.PushPage({Export(9, "failed")});
  ASSERT_TRUE(Discovery().RunOnce());
  EXPECT_EQ(Task(9).state, poll::ExportState::kUnknown);
}

TEST_F(BackUpDiscoveryTest, ListingIsRateLimitedByTheAccountsBucket) {
  TokenBucket bucket(1.0, 1.0, clock_);
  BackUpExportDiscovery discovery(options_, {{"prod", &lister_, &bucket}},
                                  registry_, store_, clock_, sleeper_);
  lister_.PushPage({Export(9, "init"), Export(8, "init")});
  lister_.PushPage({Export(7, "init"), Export(6, "init")});
  lister_.PushPage({});
  ASSERT_TRUE(discovery.RunOnce());
  // One token a second: the second and third pages waited a second each.
  EXPECT_THAT(sleeper_.sleeps(),
              ElementsAre(std::chrono::nanoseconds(0), std::chrono::seconds(1),
                          std::chrono::seconds(1)));
}

}  // namespace
}  // namespace sas::discovery
