#include "util/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include "support/fake_clock.h"

namespace sas {
namespace {

using ::sas::testing::FakeClock;

using std::chrono::milliseconds;
using std::chrono::seconds;

WallTime At(int64_t unix_seconds) { return WallTime(seconds(unix_seconds)); }

TEST(ClockTest, FormatsIso8601InUtc) {
  EXPECT_EQ(FormatIso8601(At(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIso8601(At(1698315752)), "2023-10-26T10:22:32Z");
  EXPECT_EQ(FormatIso8601(At(951782400)), "2000-02-29T00:00:00Z");
}

TEST(ClockTest, FormatTruncatesSubSeconds) {
  EXPECT_EQ(FormatIso8601(At(1698315752) + milliseconds(999)),
            "2023-10-26T10:22:32Z");
}

TEST(ClockTest, ParsesIso8601) {
  WallTime t;
  ASSERT_TRUE(ParseIso8601("2023-10-26T10:22:32Z", &t));
  EXPECT_EQ(t, At(1698315752));
  ASSERT_TRUE(ParseIso8601("1970-01-01T00:00:00Z", &t));
  EXPECT_EQ(t, At(0));
  ASSERT_TRUE(ParseIso8601("2024-02-29T23:59:59Z", &t));
  EXPECT_EQ(FormatIso8601(t), "2024-02-29T23:59:59Z");
}

TEST(ClockTest, ParseRejectsOtherFormats) {
  WallTime t = At(42);
  for (const char* text :
       {"", "2023-10-26", "2023-10-26T10:22:32", "2023-10-26 10:22:32Z",
        "2023-10-26T10:22:32+08:00", "2023-10-26T10:22:32.123Z",
        "2023-10-26t10:22:32z", "2023/10/26T10:22:32Z", "2023-1a-26T10:22:32Z",
        " 2023-10-26T10:22:32Z", "2023-10-26T10:22:32Z "}) {
    EXPECT_FALSE(ParseIso8601(text, &t)) << text;
  }
  EXPECT_EQ(t, At(42)) << "out is untouched on failure";
}

TEST(ClockTest, ParseRejectsImpossibleDates) {
  WallTime t;
  for (const char* text :
       {"2023-00-10T00:00:00Z", "2023-13-10T00:00:00Z", "2023-10-00T00:00:00Z",
        "2023-10-32T00:00:00Z", "2023-02-29T00:00:00Z", "2023-04-31T00:00:00Z",
        "1900-02-29T00:00:00Z", "2023-10-26T24:00:00Z", "2023-10-26T10:60:00Z",
        "2023-10-26T10:22:61Z"}) {
    EXPECT_FALSE(ParseIso8601(text, &t)) << text;
  }
  EXPECT_TRUE(ParseIso8601("2000-02-29T00:00:00Z", &t));
}

TEST(ClockTest, ParseRefusesDatesOutsideTheAcceptedRange) {
  WallTime t = At(42);
  for (const char* text : {"1969-12-31T23:59:59Z", "1600-01-01T00:00:00Z",
                           "2200-01-01T00:00:00Z", "2262-04-12T00:00:00Z",
                           "9999-12-31T23:59:59Z", "2199-12-31T23:59:60Z"}) {
    EXPECT_FALSE(ParseIso8601(text, &t)) << text;
  }
  EXPECT_EQ(t, At(42));
  ASSERT_TRUE(ParseIso8601("2199-12-31T23:59:59Z", &t));
  EXPECT_EQ(t, At(kMaxUnixSeconds));
}

TEST(ClockTest, WallTimeFromUnixSecondsChecksTheRange) {
  EXPECT_EQ(WallTimeFromUnixSeconds(0), At(0));
  EXPECT_EQ(WallTimeFromUnixSeconds(1700000000.25),
            At(1700000000) + milliseconds(250));
  EXPECT_EQ(WallTimeFromUnixSeconds(static_cast<double>(kMaxUnixSeconds)),
            At(kMaxUnixSeconds));
  for (double bad : {-1.0, -1e300, 1764643200000.0, 9.3e9, 1e13, 1e300,
                     static_cast<double>(kMaxUnixSeconds) + 1,
                     std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(WallTimeFromUnixSeconds(bad), std::nullopt) << bad;
  }
}

TEST(ClockTest, SaturatingAddHoldsAtTheLimits) {
  SteadyTime t{std::chrono::hours(1)};
  EXPECT_EQ(SaturatingAdd(t, milliseconds(5)), t + milliseconds(5));
  EXPECT_EQ(SaturatingAdd(t, milliseconds::max()), SteadyTime::max());
  EXPECT_EQ(SaturatingAdd(t, milliseconds(std::chrono::hours(2562048))),
            SteadyTime::max());
  EXPECT_EQ(SaturatingAdd(SteadyTime::max(), milliseconds(1)),
            SteadyTime::max());
  EXPECT_EQ(
      SaturatingAdd(SteadyTime(-std::chrono::hours(1)), milliseconds::min()),
      SteadyTime::min());
  EXPECT_EQ(SaturatingAdd(At(0), milliseconds(1000)), At(1));
}

TEST(ClockTest, FormatParseRoundTrips) {
  for (int64_t s : {int64_t{0}, int64_t{1700000000}, int64_t{4102444799}}) {
    WallTime t;
    ASSERT_TRUE(ParseIso8601(FormatIso8601(At(s)), &t));
    EXPECT_EQ(t, At(s));
  }
}

TEST(ClockTest, ToUnixSecondsKeepsFraction) {
  EXPECT_DOUBLE_EQ(ToUnixSeconds(At(1700000000) + milliseconds(250)),
                   1700000000.25);
}

TEST(FakeClockTest, StartsAtGivenTimeAndMovesOnlyWhenAdvanced) {
  FakeClock clock(At(1698315752));
  EXPECT_EQ(clock.Now(), At(1698315752));
  SteadyTime steady = clock.SteadyNow();
  EXPECT_EQ(clock.Now(), At(1698315752));
  EXPECT_EQ(clock.SteadyNow(), steady);

  clock.Advance(seconds(90));
  EXPECT_EQ(clock.Now(), At(1698315752 + 90));
  EXPECT_EQ(clock.SteadyNow() - steady, seconds(90));
  EXPECT_EQ(FormatIso8601(clock.Now()), "2023-10-26T10:24:02Z");
}

TEST(FakeClockTest, DefaultStart) {
  FakeClock clock;
  EXPECT_EQ(clock.Now(), At(1700000000));
}

TEST(FakeClockTest, AdvanceIsThreadSafe) {
  FakeClock clock(At(0));
  SteadyTime steady = clock.SteadyNow();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 1000; ++j) clock.Advance(milliseconds(1));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clock.Now(), At(4));
  EXPECT_EQ(clock.SteadyNow() - steady, seconds(4));
}

TEST(RealClockTest, IsReasonable) {
  EXPECT_GT(RealClock().Now(), At(1700000000));
  SteadyTime a = RealClock().SteadyNow();
  EXPECT_LE(a, RealClock().SteadyNow());
}

}  // namespace
}  // namespace sas
