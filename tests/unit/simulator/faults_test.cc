#include "simulator/faults.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "simulator/scenario.h"
#include "support/fake_clock.h"

namespace sas::simulator {
namespace {

using ::testing::HasSubstr;
using Fields = std::vector<std::pair<std::string, std::string>>;

FaultSpec Parse(const Fields& fields) {
  FaultError error;
  std::optional<FaultSpec> spec = ParseFault(fields, &error);
  EXPECT_TRUE(spec) << error.message;
  return spec.value_or(FaultSpec{});
}

FaultError Refusal(const Fields& fields) {
  FaultError error;
  EXPECT_FALSE(ParseFault(fields, &error));
  return error;
}

TEST(ParseFault, EveryKindWithItsKeysAndDefaults) {
  FaultSpec error =
      Parse({{"kind", "error"}, {"export_id", "7"}, {"count", "3"}});
  EXPECT_EQ(error.kind, FaultKind::kError);
  EXPECT_EQ(error.export_id, 7);
  EXPECT_EQ(error.count, 3);
  EXPECT_EQ(error.status, 503);
  EXPECT_EQ(error.code, "ServiceUnavailable");
  EXPECT_FALSE(error.duration);

  FaultSpec throttle = Parse({{"kind", "throttle"},
                              {"retry_after", "50ms"},
                              {"duration", "2s"},
                              {"after", "1s"}});
  EXPECT_EQ(throttle.status, 400);
  EXPECT_EQ(throttle.code, "Throttling.User");
  EXPECT_EQ(throttle.retry_after, Millis(50));
  EXPECT_EQ(throttle.duration, Millis(2000));
  EXPECT_EQ(throttle.after, Millis(1000));

  EXPECT_EQ(Parse({{"kind", "latency"}, {"latency", "3s"}}).latency,
            Millis(3000));
  EXPECT_EQ(Parse({{"kind", "clock_skew"}, {"skew", "-20m"}}).skew,
            Millis(-20 * 60'000));
  EXPECT_EQ(Parse({{"kind", "clock_skew"}, {"skew", "16m"}}).skew,
            Millis(16 * 60'000));
  for (const char* kind : {"reset", "truncate", "stall", "sts_unavailable",
                           "metadata_unavailable"}) {
    EXPECT_EQ(FaultKindName(Parse({{"kind", kind}}).kind), kind);
  }
  EXPECT_TRUE(Parse({{"kind", "reset"}}).IsAnswerFault());
  EXPECT_FALSE(Parse({{"kind", "stall"}}).IsAnswerFault());
}

TEST(ParseFault, RefusalsNameTheKey) {
  FaultError error = Refusal({{"kind", "resett"}});
  EXPECT_EQ(error.key, "kind");
  EXPECT_THAT(error.message, HasSubstr("\"kind\" must be one of latency,"));
  EXPECT_THAT(Refusal({{"export_id", "1"}}).message,
              HasSubstr("a fault needs a \"kind\""));
  error = Refusal({{"kind", "reset"}, {"cont", "2"}});
  EXPECT_EQ(error.key, "cont");
  EXPECT_THAT(error.message, HasSubstr("did you mean \"count\"?"));
  error = Refusal({{"kind", "reset"}, {"count", "0"}});
  EXPECT_THAT(error.message,
              HasSubstr("\"count\" must be a whole number from 1 to 1000000"));
  EXPECT_THAT(Refusal({{"kind", "reset"}, {"count", "2000000"}}).key, "count");
  EXPECT_THAT(Refusal({{"kind", "reset"}, {"export_id", "-1"}}).message,
              HasSubstr("\"export_id\" must be a positive integer"));
  EXPECT_THAT(Refusal({{"kind", "error"}, {"status", "200"}}).message,
              HasSubstr("\"status\" must be an HTTP status from 400 to 599"));
  EXPECT_THAT(Refusal({{"kind", "error"}, {"code", "a b"}}).message,
              HasSubstr("\"code\" must be 1 to 64 of"));
  EXPECT_THAT(Refusal({{"kind", "latency"}, {"latency", "soon"}}).message,
              HasSubstr("\"latency\" wants a duration like"));
  EXPECT_THAT(Refusal({{"kind", "latency"}, {"latency", "11m"}}).message,
              HasSubstr("\"latency\" must be at most 10m"));
  EXPECT_THAT(Refusal({{"kind", "latency"}}).message,
              HasSubstr("a \"latency\" fault needs \"latency\""));
  EXPECT_THAT(Refusal({{"kind", "clock_skew"}, {"skew", "0s"}}).message,
              HasSubstr("\"skew\" must not be 0s"));
  EXPECT_THAT(Refusal({{"kind", "reset"}, {"duration", "0s"}}).message,
              HasSubstr("\"duration\" must be longer than 0s"));
  EXPECT_THAT(Refusal({{"kind", "reset"}, {"latency", "1s"}}).message,
              HasSubstr("\"latency\" has no effect on a \"reset\" fault"));
  EXPECT_THAT(Refusal({{"kind", "stall"}, {"count", "1"}}).message,
              HasSubstr("\"count\" has no effect on a \"stall\" fault"));
  EXPECT_THAT(Refusal({{"kind", "stall"}, {"export_id", "1"}}).key,
              "export_id");
  EXPECT_THAT(Refusal({{"kind", "reset"}, {"kind", "reset"}}).message,
              HasSubstr("\"kind\" given twice"));
}

class FaultSetTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  FaultSet faults_{clock_};

  void Add(const Fields& fields) {
    std::string error;
    ASSERT_TRUE(faults_.Add(Parse(fields), clock_.SteadyNow(), &error))
        << error;
  }
};

TEST_F(FaultSetTest, CountedFaultIsSpentAndMatchesItsExportOnly) {
  Add({{"kind", "error"}, {"export_id", "7"}, {"count", "2"}});
  EXPECT_FALSE(faults_.TakeAnswerFault(8));
  EXPECT_FALSE(faults_.TakeAnswerFault(0));
  EXPECT_TRUE(faults_.TakeAnswerFault(7));
  EXPECT_THAT(faults_.Json(), HasSubstr("\"count_left\":1"));
  EXPECT_TRUE(faults_.TakeAnswerFault(7));
  EXPECT_FALSE(faults_.TakeAnswerFault(7));
  EXPECT_EQ(faults_.Json(), "{\"faults\":[]}");
}

TEST_F(FaultSetTest, WindowFromAfterForDuration) {
  Add({{"kind", "reset"}, {"after", "1s"}, {"duration", "2s"}});
  EXPECT_FALSE(faults_.TakeAnswerFault(1));
  EXPECT_THAT(faults_.Json(), HasSubstr("\"state\":\"pending\""));
  clock_.Advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(faults_.TakeAnswerFault(1)->kind, FaultKind::kReset);
  EXPECT_TRUE(faults_.TakeAnswerFault(99));  // no export_id: every call
  clock_.Advance(std::chrono::milliseconds(1999));
  EXPECT_TRUE(faults_.TakeAnswerFault(1));
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(faults_.TakeAnswerFault(1));
}

TEST_F(FaultSetTest, SkewStallAndOutagesUntilCleared) {
  SkewedClock gateway(clock_, faults_);
  EXPECT_EQ(gateway.Now(), clock_.Now());
  Add({{"kind", "clock_skew"}, {"skew", "-20m"}});
  Add({{"kind", "stall"}});
  Add({{"kind", "sts_unavailable"}, {"count", "1"}});
  EXPECT_EQ(gateway.Now(), clock_.Now() - std::chrono::minutes(20));
  EXPECT_EQ(gateway.SteadyNow(), clock_.SteadyNow());
  EXPECT_TRUE(faults_.Stalling());
  EXPECT_FALSE(faults_.TakeOutage(FaultKind::kMetadataUnavailable));
  EXPECT_TRUE(faults_.TakeOutage(FaultKind::kStsUnavailable));
  EXPECT_FALSE(faults_.TakeOutage(FaultKind::kStsUnavailable));
  // Skew and stall are no answer faults.
  EXPECT_FALSE(faults_.TakeAnswerFault(1));
  faults_.Clear();
  EXPECT_FALSE(faults_.Stalling());
  EXPECT_EQ(faults_.ClockSkew(), Millis(0));
}

TEST_F(FaultSetTest, BoundedNumberOfFaults) {
  for (size_t i = 0; i < FaultSet::kMaxFaults; ++i) Add({{"kind", "reset"}});
  std::string error;
  EXPECT_FALSE(
      faults_.Add(Parse({{"kind", "reset"}}), clock_.SteadyNow(), &error));
  EXPECT_THAT(error, HasSubstr("at most 64 faults"));
}

TEST(ScenarioFaults, FaultTablesParseAndRefuseWithPositions) {
  std::string error;
  std::optional<Scenario> scenario = ParseScenario(R"(
[[fault]]
kind = "error"
export_id = 3
count = 5
status = 500
code = "InternalError"

[[fault]]
kind = "clock_skew"
skew = "20m"
after = "10s"
)",
                                                   "s.toml", &error);
  ASSERT_TRUE(scenario) << error;
  ASSERT_EQ(scenario->faults.size(), 2u);
  EXPECT_EQ(scenario->faults[0].code, "InternalError");
  EXPECT_EQ(scenario->faults[0].status, 500);
  EXPECT_EQ(scenario->faults[1].after, Millis(10'000));

  EXPECT_FALSE(ParseScenario("[[fault]]\nkind = \"reset\"\ncount = \"2\"\n",
                             "s.toml", &error));
  EXPECT_THAT(error, HasSubstr("s.toml:3:"));
  EXPECT_FALSE(ParseScenario("[[fault]]\nkind = \"reset\"\nlatncy = \"2s\"\n",
                             "s.toml", &error));
  EXPECT_THAT(error, HasSubstr("s.toml:3:1:"));
  EXPECT_THAT(error, HasSubstr("did you mean \"latency\""));
  EXPECT_FALSE(ParseScenario("[[fault]]\nkind = \"error\"\nstatus = 302\n",
                             "s.toml", &error));
  EXPECT_THAT(error, HasSubstr("s.toml:3:10: \"status\" must be an HTTP"));
  EXPECT_FALSE(ParseScenario("\n[[fault]]\nexport_id = 2\n", "s.toml", &error));
  EXPECT_THAT(error, HasSubstr("s.toml:2:1: a fault needs a \"kind\""));
}

}  // namespace
}  // namespace sas::simulator
