#include "credentials/refreshing_provider.h"

#include <gtest/gtest.h>

#include <deque>

#include "support/fake_clock.h"

namespace sas::credentials {
namespace {

using ::sas::testing::FakeClock;

using aliyun::Credentials;
using aliyun::CredentialsResult;
using std::chrono::seconds;

// Answers from a script; records when it was asked.
class ScriptedFetcher : public CredentialsFetcher {
 public:
  explicit ScriptedFetcher(const Clock& clock) : clock_(clock) {}
  void Succeed(std::string id, std::optional<WallTime> expiration) {
    script_.push_back(
        {Credentials{std::move(id), "secret", "token", expiration}, "", ""});
  }
  void Fail(std::string code) {
    script_.push_back({std::nullopt, std::move(code), "it failed"});
  }
  CredentialsResult Fetch() override {
    fetched_at.push_back(clock_.Now());
    CredentialsResult result = script_.front();
    script_.pop_front();
    return result;
  }
  std::string Type() const override { return "ram_role_arn"; }
  std::vector<WallTime> fetched_at;

 private:
  const Clock& clock_;
  std::deque<CredentialsResult> script_;
};

class Recorder : public RefreshObserver {
 public:
  void OnRefresh(const std::string& account, const std::string& provider,
                 const CredentialsResult& result) override {
    events.push_back(account + "/" + provider + "/" +
                     (result.credentials ? "ok" : result.error_code));
  }
  std::vector<std::string> events;
};

class RefreshingProviderTest : public ::testing::Test {
 protected:
  RefreshingProviderTest() {
    auto fetcher = std::make_unique<ScriptedFetcher>(clock_);
    fetcher_ = fetcher.get();
    provider_ = std::make_unique<RefreshingProvider>("prod", std::move(fetcher),
                                                     clock_, &recorder_);
  }
  WallTime In(seconds s) { return clock_.Now() + s; }

  FakeClock clock_;
  Recorder recorder_;
  ScriptedFetcher* fetcher_;
  std::unique_ptr<RefreshingProvider> provider_;
};

TEST_F(RefreshingProviderTest, PendingUntilTheFirstFetch) {
  CredentialsResult result = provider_->Get();
  EXPECT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "CredentialsPending");
  EXPECT_TRUE(fetcher_->fetched_at.empty());
}

TEST_F(RefreshingProviderTest, RefreshesWhen180SecondsRemain) {
  WallTime start = clock_.Now();
  fetcher_->Succeed("STS.one", In(seconds(900)));
  WallTime next = provider_->RefreshIfDue();
  EXPECT_EQ(next, start + seconds(720));
  EXPECT_EQ(provider_->Get().credentials->access_key_id, "STS.one");

  clock_.Advance(seconds(719));
  EXPECT_EQ(provider_->RefreshIfDue(), start + seconds(720));
  EXPECT_EQ(fetcher_->fetched_at.size(), 1u);

  clock_.Advance(seconds(1));
  fetcher_->Succeed("STS.two", In(seconds(900)));
  provider_->RefreshIfDue();
  EXPECT_EQ(fetcher_->fetched_at.size(), 2u);
  EXPECT_EQ(provider_->Get().credentials->access_key_id, "STS.two");
  EXPECT_EQ(recorder_.events,
            (std::vector<std::string>{"prod/ram_role_arn/ok",
                                      "prod/ram_role_arn/ok"}));
}

TEST_F(RefreshingProviderTest, FailedRefreshKeepsValidCredentialsAndBacksOff) {
  fetcher_->Succeed("STS.one", In(seconds(600)));
  provider_->RefreshIfDue();
  clock_.Advance(seconds(420));  // 180 s left: due
  fetcher_->Fail("ServiceUnavailable");
  WallTime next = provider_->RefreshIfDue();
  EXPECT_EQ(next, clock_.Now() + seconds(1));
  EXPECT_EQ(provider_->Get().credentials->access_key_id, "STS.one");

  clock_.Advance(seconds(1));
  fetcher_->Fail("ServiceUnavailable");
  next = provider_->RefreshIfDue();
  EXPECT_EQ(next, clock_.Now() + seconds(2));  // doubled

  clock_.Advance(seconds(2));
  fetcher_->Succeed("STS.two", In(seconds(600)));
  provider_->RefreshIfDue();
  EXPECT_EQ(provider_->Get().credentials->access_key_id, "STS.two");
}

TEST_F(RefreshingProviderTest, ExpiredCredentialsAreNotHandedOut) {
  fetcher_->Succeed("STS.one", In(seconds(300)));
  provider_->RefreshIfDue();
  clock_.Advance(seconds(200));
  fetcher_->Fail("NoPermission");
  provider_->RefreshIfDue();
  clock_.Advance(seconds(100));  // now at expiry
  CredentialsResult result = provider_->Get();
  EXPECT_FALSE(result.credentials);
  EXPECT_EQ(result.error_code, "CredentialsExpired");
  EXPECT_NE(result.error_message.find("NoPermission"), std::string::npos);
}

// A provider whose retries stop at `cap_` once no valid credentials are
// cached.
class RefreshingProviderCapTest : public ::testing::Test {
 protected:
  void Start(seconds cap) {
    auto fetcher = std::make_unique<ScriptedFetcher>(clock_);
    fetcher_ = fetcher.get();
    provider_ = std::make_unique<RefreshingProvider>("prod", std::move(fetcher),
                                                     clock_, nullptr, cap);
  }
  // The waits `failures` failed fetches in a row ask for, each taken.
  std::vector<seconds> FailRepeatedly(int failures) {
    std::vector<seconds> waits;
    for (int i = 0; i < failures; ++i) {
      fetcher_->Fail("ServiceUnavailable");
      WallTime next = provider_->RefreshIfDue();
      waits.push_back(std::chrono::duration_cast<seconds>(next - clock_.Now()));
      clock_.Advance(waits.back());
    }
    return waits;
  }

  FakeClock clock_;
  ScriptedFetcher* fetcher_ = nullptr;
  std::unique_ptr<RefreshingProvider> provider_;
};

// With valid credentials cached a failing refresh backs off to 60 s; once
// they expired, to the cap (5 s), so the account recovers soon after STS is
// back.
TEST_F(RefreshingProviderCapTest, BackoffStopsAtTheCapOnceCredentialsExpired) {
  Start(seconds(5));
  fetcher_->Succeed("STS.one", clock_.Now() + seconds(600));
  provider_->RefreshIfDue();
  clock_.Advance(seconds(420));  // 180 s left: due
  std::vector<seconds> waits = FailRepeatedly(12);
  EXPECT_EQ(waits[0], seconds(1));
  EXPECT_EQ(waits[5], seconds(32));
  EXPECT_EQ(waits[6], seconds(60));  // 63 s in, still valid
  EXPECT_EQ(waits[7], seconds(60));  // 123 s in, still valid
  EXPECT_EQ(waits[8], seconds(5));   // 183 s in: expired
  EXPECT_EQ(waits[11], seconds(5));
  EXPECT_FALSE(provider_->Get().credentials);

  fetcher_->Succeed("STS.two", clock_.Now() + seconds(600));
  provider_->RefreshIfDue();
  EXPECT_EQ(provider_->Get().credentials->access_key_id, "STS.two");
  // Recovered: a new failure starts again at 1 s.
  clock_.Advance(seconds(420));
  EXPECT_EQ(FailRepeatedly(1), std::vector<seconds>{seconds(1)});
}

TEST_F(RefreshingProviderCapTest, NeverFetchedRetriesAtTheCap) {
  Start(seconds(2));
  EXPECT_EQ(FailRepeatedly(4), (std::vector<seconds>{seconds(1), seconds(2),
                                                     seconds(2), seconds(2)}));
}

TEST_F(RefreshingProviderTest, LongLivedKeysAreFetchedOnce) {
  fetcher_->Succeed("LTAI", std::nullopt);
  WallTime next = provider_->RefreshIfDue();
  EXPECT_GT(next, In(seconds(86400 * 300)));
  clock_.Advance(seconds(86400));
  provider_->RefreshIfDue();
  EXPECT_EQ(fetcher_->fetched_at.size(), 1u);
}

TEST_F(RefreshingProviderTest, RefreshFetchesNowWhateverTheSchedule) {
  fetcher_->Succeed("STS.one", In(seconds(3600)));
  provider_->RefreshIfDue();
  fetcher_->Succeed("STS.two", In(seconds(3600)));
  CredentialsResult result = provider_->Refresh();
  EXPECT_EQ(result.credentials->access_key_id, "STS.two");
  EXPECT_EQ(provider_->Get().credentials->access_key_id, "STS.two");
}

TEST(CredentialsRefresher, FetchesInTheBackgroundAndStops) {
  class CountingFetcher : public CredentialsFetcher {
   public:
    CredentialsResult Fetch() override {
      ++count;
      return {Credentials{"LTAI", "s", "", std::nullopt}, "", ""};
    }
    std::string Type() const override { return "access_key"; }
    std::atomic<int> count{0};
  };
  auto fetcher = std::make_unique<CountingFetcher>();
  CountingFetcher* raw = fetcher.get();
  RefreshingProvider provider("prod", std::move(fetcher), RealClock());
  CredentialsRefresher refresher(RealClock());
  refresher.Add(&provider);
  EXPECT_TRUE(refresher.WaitForFirstFetches(std::chrono::seconds(10)));
  EXPECT_EQ(raw->count, 1);
  EXPECT_TRUE(provider.Get().credentials.has_value());
  auto started = std::chrono::steady_clock::now();
  refresher.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            std::chrono::seconds(1));
}

}  // namespace
}  // namespace sas::credentials
