#include "simulator/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sas::simulator {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

Scenario MustParse(std::string_view text) {
  std::string error;
  std::optional<Scenario> scenario = ParseScenario(text, "s.toml", &error);
  EXPECT_TRUE(scenario.has_value()) << error;
  return scenario.value_or(Scenario{});
}

std::string ParseError(std::string_view text) {
  std::string error;
  EXPECT_FALSE(ParseScenario(text, "s.toml", &error).has_value()) << text;
  return error;
}

TEST(Scenario, ParsesEveryKey) {
  Scenario scenario = MustParse(R"(
[simulator]
seed = 42

[[export]]
id = 1001
file_name = "asset_export_1001"
total_count = 5000
init_duration = "5s"
duration = "1m30s"
stuck_at = 40
stuck_in_init = true
final_status = "failed"
error_code = "ServerError"
error_status = 503
error_message = "The request processing has failed."
error_rate = 0.25
throttle_rate = 0.5
retry_after = "100ms"
latency = "200ms"
rd_account_id = 1234567
non_json_rate = 1
)");
  EXPECT_EQ(scenario.seed, 42u);
  ASSERT_EQ(scenario.exports.size(), 1u);
  const ExportSpec& e = scenario.exports[0];
  EXPECT_EQ(e.id, 1001);
  EXPECT_EQ(e.file_name, "asset_export_1001");
  EXPECT_EQ(e.total_count, 5000);
  EXPECT_EQ(e.init_duration, seconds(5));
  EXPECT_EQ(e.duration, seconds(90));
  EXPECT_EQ(e.stuck_at, 40);
  EXPECT_TRUE(e.stuck_in_init);
  EXPECT_EQ(e.final_status, "failed");
  EXPECT_EQ(e.error_code, "ServerError");
  EXPECT_EQ(e.error_status, 503);
  EXPECT_EQ(e.error_message, "The request processing has failed.");
  EXPECT_DOUBLE_EQ(e.error_rate, 0.25);
  EXPECT_DOUBLE_EQ(e.throttle_rate, 0.5);
  EXPECT_EQ(e.retry_after, milliseconds(100));
  EXPECT_EQ(e.latency, milliseconds(200));
  EXPECT_EQ(e.rd_account_id, 1234567);
  EXPECT_DOUBLE_EQ(e.non_json_rate, 1.0);
  EXPECT_EQ(scenario.Find(1001), &scenario.exports[0]);
  EXPECT_EQ(scenario.Find(1002), nullptr);
}

TEST(Scenario, Defaults) {
  Scenario scenario = MustParse(
      "[[export]]\nid = 7\n"
      "[[export]]\nid = 8\nerror_code = \"X\"\n");
  EXPECT_FALSE(scenario.seed.has_value());
  ASSERT_EQ(scenario.exports.size(), 2u);
  const ExportSpec& e = scenario.exports[0];
  EXPECT_EQ(e.file_name, "export_7");
  EXPECT_EQ(e.total_count, 1000);
  EXPECT_EQ(e.init_duration, seconds(0));
  EXPECT_EQ(e.duration, seconds(60));
  EXPECT_FALSE(e.stuck_at.has_value());
  EXPECT_FALSE(e.stuck_in_init);
  EXPECT_FALSE(e.final_status.has_value());
  EXPECT_EQ(e.error_code, "");
  EXPECT_DOUBLE_EQ(e.throttle_rate, 0.0);
  EXPECT_EQ(e.retry_after, seconds(1));
  EXPECT_EQ(e.latency, seconds(0));
  EXPECT_FALSE(e.rd_account_id.has_value());
  EXPECT_DOUBLE_EQ(e.non_json_rate, 0.0);
  const ExportSpec& x = scenario.exports[1];
  EXPECT_EQ(x.error_status, 500);
  EXPECT_EQ(x.error_message, "X");
  EXPECT_DOUBLE_EQ(x.error_rate, 1.0);
}

TEST(Scenario, EmptyDocumentHasNoExports) {
  EXPECT_TRUE(MustParse("").exports.empty());
}

TEST(Scenario, UnknownKeySuggestsNearest) {
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nduraton = \"5s\"\n"),
            "s.toml:3:1: unknown key \"duraton\" in [[export]]; did you mean "
            "\"duration\"?");
  EXPECT_EQ(ParseError("[simulator]\n  sead = 1\n"),
            "s.toml:2:3: unknown key \"sead\" in [simulator]; did you mean "
            "\"seed\"?");
  EXPECT_EQ(ParseError("[[exports]]\nid = 1\n"),
            "s.toml:1:3: unknown key \"exports\" in the top level; did you "
            "mean \"export\"?");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\ncolour = 1\n"),
            "s.toml:3:1: unknown key \"colour\" in [[export]]");
}

TEST(Scenario, WrongTypesNamePosition) {
  EXPECT_EQ(ParseError("[[export]]\nid = \"1001\"\n"),
            "s.toml:2:6: \"id\" must be an integer, not a string");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nstuck_in_init = 1\n"),
            "s.toml:3:17: \"stuck_in_init\" must be a boolean, not an "
            "integer");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nduration = 60\n"),
            "s.toml:3:12: \"duration\" must be a duration string such as "
            "\"30s\", not an integer");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nthrottle_rate = \"half\"\n"),
            "s.toml:3:17: \"throttle_rate\" must be a number between 0 and 1, "
            "not a string");
  EXPECT_EQ(ParseError("simulator = 1\n"),
            "s.toml:1:13: \"simulator\" must be a table, not an integer");
  EXPECT_EQ(ParseError("[export]\nid = 1\n"),
            "s.toml:1:1: \"export\" must be an array of tables ([[export]]), "
            "not a table");
}

TEST(Scenario, BadValues) {
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nlatency = \"5 s\"\n"),
              HasSubstr("s.toml:3:11: \"latency\": bad duration \"5 s\""));
  EXPECT_THAT(ParseError("[[export]]\nid = 0\n"),
              HasSubstr("s.toml:2:6: \"id\" must be between 1 and"));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nstuck_at = 101\n"),
              HasSubstr("s.toml:3:12: \"stuck_at\" must be between 0 and 100"));
  EXPECT_THAT(ParseError("[[export]]\nid = 1\nerror_rate = 1.5\n"
                         "error_code = \"X\"\n"),
              HasSubstr("s.toml:3:14: \"error_rate\" must be between 0 and 1"));
  EXPECT_THAT(
      ParseError(
          "[[export]]\nid = 1\nerror_code = \"X\"\nerror_status = 200\n"),
      HasSubstr("s.toml:4:16: \"error_status\" must be between 400 and 599"));
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nerror_status = 503\n"),
            "s.toml:3:16: \"error_status\" has no effect without "
            "\"error_code\"");
  EXPECT_EQ(ParseError("[[export]]\nid = 1\nfile_name = \"\"\n"),
            "s.toml:3:13: \"file_name\" must not be empty");
}

TEST(Scenario, MissingAndDuplicateIds) {
  EXPECT_EQ(ParseError("[[export]]\nid = 1\n[[export]]\ntotal_count = 1\n"),
            "s.toml:3:1: [[export]] needs an \"id\"");
  EXPECT_EQ(ParseError("[[export]]\nid = 5\n[[export]]\nid = 5\n"),
            "s.toml:4:6: duplicate export id 5 (first defined at line 2)");
}

TEST(Scenario, TomlSyntaxErrorNamesPosition) {
  EXPECT_THAT(ParseError("[[export]]\nid = = 1\n"), HasSubstr("s.toml:2:"));
}

TEST(Scenario, LoadFileReportsReadErrors) {
  MemoryFileSystem files;
  files.Add("/etc/sim.toml", "[[export]]\nid = 3\n");
  std::string error;
  std::optional<Scenario> scenario =
      LoadScenarioFile(files, "/etc/sim.toml", &error);
  ASSERT_TRUE(scenario.has_value()) << error;
  EXPECT_EQ(scenario->exports.at(0).id, 3);
  EXPECT_FALSE(LoadScenarioFile(files, "/missing.toml", &error).has_value());
  EXPECT_THAT(error, HasSubstr("/missing.toml"));
}

TEST(Scenario, DemoScenarioParses) {
  std::string error;
  std::optional<Scenario> scenario = LoadScenarioFile(
      LocalFileSystem(), SAS_SOURCE_DIR "/config/simulator/demo.toml", &error);
  ASSERT_TRUE(scenario.has_value()) << error;
  EXPECT_GE(scenario->exports.size(), 8u);
}

ExportSpec Curve() {
  ExportSpec spec;
  spec.id = 1;
  spec.total_count = 5000;
  spec.init_duration = seconds(5);
  spec.duration = seconds(60);
  return spec;
}

void ExpectState(const ExportSpec& spec, Millis at, const std::string& status,
                 int progress, int64_t count) {
  ExportState state = StateAt(spec, at);
  EXPECT_EQ(state.status, status) << at.count() << "ms";
  EXPECT_EQ(state.progress, progress) << at.count() << "ms";
  EXPECT_EQ(state.current_count, count) << at.count() << "ms";
}

TEST(ProgressCurve, InitThenLinearThenSuccess) {
  ExportSpec spec = Curve();
  ExpectState(spec, seconds(0), "init", 0, 0);
  ExpectState(spec, milliseconds(4999), "init", 0, 0);
  ExpectState(spec, seconds(5), "exporting", 0, 0);
  ExpectState(spec, milliseconds(5599), "exporting", 0, 0);
  ExpectState(spec, milliseconds(5600), "exporting", 1, 50);
  ExpectState(spec, seconds(35), "exporting", 50, 2500);
  ExpectState(spec, milliseconds(64999), "exporting", 99, 4950);
  ExpectState(spec, seconds(65), "success", 100, 5000);
  ExpectState(spec, std::chrono::hours(100), "success", 100, 5000);
}

TEST(ProgressCurve, ZeroDurationFinishesAtOnce) {
  ExportSpec spec = Curve();
  spec.init_duration = seconds(0);
  spec.duration = seconds(0);
  ExpectState(spec, seconds(0), "success", 100, 5000);
}

TEST(ProgressCurve, StuckAtStaysExporting) {
  ExportSpec spec = Curve();
  spec.stuck_at = 40;
  ExpectState(spec, seconds(20), "exporting", 25, 1250);
  ExpectState(spec, seconds(29), "exporting", 40, 2000);
  ExpectState(spec, std::chrono::hours(100), "exporting", 40, 2000);
}

TEST(ProgressCurve, StuckInInit) {
  ExportSpec spec = Curve();
  spec.stuck_in_init = true;
  ExpectState(spec, std::chrono::hours(100), "init", 0, 0);
}

TEST(ProgressCurve, FinalStatusReplacesSuccess) {
  ExportSpec spec = Curve();
  spec.final_status = "failed";
  ExpectState(spec, seconds(35), "exporting", 50, 2500);
  ExpectState(spec, seconds(65), "failed", 100, 5000);
}

TEST(ProgressCurve, FinalStatusWithStuckAtEndsThere) {
  ExportSpec spec = Curve();
  spec.final_status = "failed";
  spec.stuck_at = 37;
  ExpectState(spec, seconds(20), "exporting", 25, 1250);
  ExpectState(spec, seconds(30), "failed", 37, 1850);
}

}  // namespace
}  // namespace sas::simulator
