#include "util/log.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace sas::log {
namespace {

constexpr std::string_view kTs = "2026-11-27T10:00:00.000Z";

TEST(LogTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(ParseLevel("info"), Level::kInfo);
  EXPECT_EQ(ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(ParseLevel("error"), Level::kError);
  EXPECT_EQ(ParseLevel("INFO"), std::nullopt);
  EXPECT_EQ(ParseLevel("warning"), std::nullopt);
  EXPECT_EQ(ParseFormat("logfmt"), Format::kLogfmt);
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("text"), std::nullopt);
}

TEST(LogTest, FormatsLogfmt) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, kTs, Level::kInfo, "Polling started",
                       {{"tasks", "3"}, {"account", "prod"}}),
            "ts=2026-11-27T10:00:00.000Z level=info msg=\"Polling started\" "
            "tasks=3 account=prod");
}

TEST(LogTest, LogfmtQuotesAndEscapesWhereNeeded) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, kTs, Level::kWarn, "x",
                       {{"empty", ""},
                        {"eq", "a=b"},
                        {"quote", "say \"hi\""},
                        {"slash", "a\\b"},
                        {"lines", "a\nb\rc\td"},
                        {"ctl", std::string("a\x01z")}}),
            "ts=2026-11-27T10:00:00.000Z level=warn msg=x empty=\"\" "
            "eq=\"a=b\" quote=\"say \\\"hi\\\"\" slash=\"a\\\\b\" "
            "lines=\"a\\nb\\rc\\td\" ctl=\"a\\x01z\"");
}

TEST(LogTest, QuotedValuesNeverCarryRawControlOrInvalidBytes) {
  // A task API path such as DELETE /api/v1/tasks/%FF%FE/1, decoded.
  std::string bad("\xff\xfe/1\x7f\x00", 6);
  EXPECT_EQ(FormatLine(Format::kLogfmt, kTs, Level::kWarn, "x",
                       {{"path", bad}, {"utf8", "caf\xc3\xa9"}}),
            "ts=2026-11-27T10:00:00.000Z level=warn msg=x "
            "path=\"\\xff\\xfe/1\\x7f\\x00\" utf8=caf\xc3\xa9");
  EXPECT_EQ(FormatLine(Format::kJson, kTs, Level::kWarn, "x", {{"path", bad}}),
            R"({"ts":"2026-11-27T10:00:00.000Z","level":"warn","msg":"x",)"
            R"("path":"\\xff\\xfe/1\u007f\u0000"})");
}

TEST(LogTest, LogfmtLeavesPlainValuesBare) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, kTs, Level::kError, "failed",
                       {{"code", "Throttling.User"}, {"url", "https://x/y?z"}}),
            "ts=2026-11-27T10:00:00.000Z level=error msg=failed "
            "code=Throttling.User url=https://x/y?z");
}

TEST(LogTest, FormatsJson) {
  EXPECT_EQ(FormatLine(Format::kJson, kTs, Level::kDebug, "Polling started",
                       {{"tasks", "3"}}),
            R"({"ts":"2026-11-27T10:00:00.000Z","level":"debug",)"
            R"("msg":"Polling started","tasks":"3"})");
}

TEST(LogTest, JsonEscapesMessageKeysAndValues) {
  EXPECT_EQ(FormatLine(Format::kJson, kTs, Level::kInfo, "a \"b\"\n",
                       {{"k\"ey", "v\\al\x02"}}),
            R"({"ts":"2026-11-27T10:00:00.000Z","level":"info",)"
            R"("msg":"a \"b\"\n","k\"ey":"v\\al\u0002"})");
}

TEST(LogTest, WriteHonoursLevelAndSink) {
  std::ostringstream sink;
  Configure(Level::kWarn, Format::kLogfmt, &sink);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  Info("hidden");
  Debug("hidden");
  Warn("shown", {{"n", "1"}});
  Configure(Level::kDebug, Format::kJson, &sink);
  Debug("also shown");
  Configure(Level::kInfo, Format::kLogfmt, nullptr);

  std::string out = sink.str();
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  size_t first_newline = out.find('\n');
  ASSERT_NE(first_newline, std::string::npos);
  std::string first = out.substr(0, first_newline);
  EXPECT_TRUE(first.starts_with("ts=")) << first;
  EXPECT_TRUE(first.ends_with(" level=warn msg=shown n=1")) << first;
  std::string second = out.substr(first_newline + 1);
  EXPECT_TRUE(second.starts_with("{\"ts\":\"")) << second;
  EXPECT_TRUE(
      second.ends_with("\",\"level\":\"debug\",\"msg\":\"also shown\"}\n"))
      << second;
}

}  // namespace
}  // namespace sas::log
