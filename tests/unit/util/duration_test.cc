#include "util/duration.h"

#include <gtest/gtest.h>

#include <string>

namespace sas {
namespace {

TEST(DurationTest, ParsesSingleUnits) {
  EXPECT_EQ(ParseDuration("500ms"), Millis(500));
  EXPECT_EQ(ParseDuration("30s"), Millis(30'000));
  EXPECT_EQ(ParseDuration("5m"), Millis(300'000));
  EXPECT_EQ(ParseDuration("2h"), Millis(7'200'000));
  EXPECT_EQ(ParseDuration("0s"), Millis(0));
}

TEST(DurationTest, ParsesCompoundAndFractional) {
  EXPECT_EQ(ParseDuration("1h30m"), Millis(5'400'000));
  EXPECT_EQ(ParseDuration("1m30s500ms"), Millis(90'500));
  EXPECT_EQ(ParseDuration("1.5h"), Millis(5'400'000));
  EXPECT_EQ(ParseDuration("0.5s"), Millis(500));
  EXPECT_EQ(ParseDuration(".5s"), Millis(500));
  EXPECT_EQ(ParseDuration("2.s"), Millis(2'000));
}

TEST(DurationTest, DistinguishesMinutesFromMilliseconds) {
  EXPECT_EQ(ParseDuration("5m"), Millis(300'000));
  EXPECT_EQ(ParseDuration("5ms"), Millis(5));
  EXPECT_EQ(ParseDuration("5m5ms"), Millis(300'005));
}

TEST(DurationTest, RoundsToWholeMilliseconds) {
  EXPECT_EQ(ParseDuration("1.4ms"), Millis(1));
  EXPECT_EQ(ParseDuration("2.5ms"), Millis(3));
}

TEST(DurationTest, RejectsMalformedText) {
  for (const char* text :
       {"",    "5",    "s",   "ms",     ".",     ".s",  "-5s",
        "+5s", "5 s",  " 5s", "5s ",    "5sec",  "5d",  "1.2.3s",
        "5S",  "1e3s", "5mh", "1h-30m", "0x10s", "5,5s"}) {
    EXPECT_EQ(ParseDuration(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(DurationTest, RejectsHugeValuesWithoutThrowing) {
  EXPECT_EQ(ParseDuration("3000000000h"), std::nullopt);
  EXPECT_EQ(ParseDuration(std::string(400, '9') + "s"), std::nullopt);
  EXPECT_EQ(ParseDuration("1" + std::string(400, '0') + "ms"), std::nullopt);
}

TEST(DurationTest, AcceptsLargestSaneValue) {
  EXPECT_EQ(ParseDuration("87600h"), Millis(int64_t{87'600} * 3'600'000));
}

TEST(DurationTest, FormatsShortestSpelling) {
  EXPECT_EQ(FormatDuration(Millis(0)), "0s");
  EXPECT_EQ(FormatDuration(Millis(1)), "1ms");
  EXPECT_EQ(FormatDuration(Millis(500)), "500ms");
  EXPECT_EQ(FormatDuration(Millis(1'000)), "1s");
  EXPECT_EQ(FormatDuration(Millis(1'500)), "1.5s");
  EXPECT_EQ(FormatDuration(Millis(1'001)), "1.001s");
  EXPECT_EQ(FormatDuration(Millis(1'010)), "1.01s");
  EXPECT_EQ(FormatDuration(Millis(60'000)), "1m");
  EXPECT_EQ(FormatDuration(Millis(90'000)), "1m30s");
  EXPECT_EQ(FormatDuration(Millis(3'600'000)), "1h");
  EXPECT_EQ(FormatDuration(Millis(5'400'000)), "1h30m");
  EXPECT_EQ(FormatDuration(Millis(3'601'000)), "1h1s");
  EXPECT_EQ(FormatDuration(Millis(90'000'000)), "25h");
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (int64_t ms :
       {int64_t{1}, int64_t{999}, int64_t{1'000}, int64_t{1'234},
        int64_t{61'001}, int64_t{3'723'004}, int64_t{86'400'000}}) {
    std::string text = FormatDuration(Millis(ms));
    EXPECT_EQ(ParseDuration(text), Millis(ms)) << text;
  }
}

}  // namespace
}  // namespace sas
