#include "metrics/task_metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "metrics/exposition.h"
#include "metrics/text_format.h"

namespace sas::metrics {
namespace {

std::string ReadGolden(const std::string& name) {
  std::ifstream in(std::string(SAS_TESTDATA_DIR) + "/golden/" + name);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<poll::TaskSnapshot> SampleSnapshot() {
  std::vector<poll::TaskSnapshot> tasks(4);
  // Exporting, in a member account.
  tasks[0].definition = {{"prod", 131231, 16670360956}, "nightly asset export"};
  tasks[0].polled = tasks[0].up = tasks[0].has_data = true;
  tasks[0].progress = 16;
  tasks[0].current_count = 20;
  tasks[0].total_count = 100;
  tasks[0].state = poll::ExportState::kExporting;
  tasks[0].status = "exporting";
  tasks[0].file_name = "health_check_export_20171123";
  tasks[0].last_success = WallTime(std::chrono::milliseconds(1700000000250));
  tasks[0].first_seen = WallTime(std::chrono::seconds(1699990000));
  tasks[0].last_progress = WallTime(std::chrono::seconds(1699999000));
  // Undocumented status, with characters to escape in its labels.
  tasks[1].definition = {{"prod", 2, std::nullopt}, "quote \" back\\slash\nnl"};
  tasks[1].polled = tasks[1].up = tasks[1].has_data = true;
  tasks[1].progress = 100;
  tasks[1].current_count = 7;
  tasks[1].total_count = 7;
  tasks[1].state = poll::ExportState::kUnknown;
  tasks[1].status = "failed";
  tasks[1].file_name = "x\"y";
  tasks[1].last_success = WallTime(std::chrono::seconds(1700000001));
  tasks[1].first_seen = WallTime(std::chrono::seconds(1699000000));
  tasks[1].last_progress = WallTime(std::chrono::seconds(1699500000));
  tasks[1].completed_at = WallTime(std::chrono::seconds(1699600000));
  // Never succeeded: only up and info.
  tasks[2].definition = {{"staging", 3, std::nullopt}, "3"};
  tasks[2].polled = true;
  tasks[2].last_error_code = "NoPermission";
  tasks[2].first_seen = tasks[2].last_progress =
      WallTime(std::chrono::seconds(1700000002));
  // Not polled yet: counted, nothing else.
  tasks[3].definition = {{"staging", 4, std::nullopt}, "4"};
  tasks[3].first_seen = tasks[3].last_progress =
      WallTime(std::chrono::seconds(1700000003));
  return tasks;
}

TEST(TaskMetrics, RendersGoldenText) {
  std::string out;
  AppendTaskMetrics(SampleSnapshot(), out);
  EXPECT_EQ(out, ReadGolden("task_metrics.txt"));
}

TEST(TaskMetrics, EmptySnapshotStillDeclaresFamilies) {
  std::string out;
  AppendTaskMetrics({}, out);
  EXPECT_NE(out.find("# TYPE aliyun_sas_export_up gauge\n"), std::string::npos);
  EXPECT_NE(out.find("aliyun_sas_exporter_tasks 0\n"), std::string::npos);
}

// A failed DescribeReportExport (no progress or counts in its answers) and a
// DescribeSuspEventExportInfo export (no CurrentCount): the series an answer
// lacks are left out, not zero; `failed` is set in the stateset and the
// export has its completion time.
TEST(TaskMetrics, LeavesOutWhatAnAnswerLacksAndShowsFailed) {
  using aliyun::ExportAction;
  std::vector<poll::TaskSnapshot> tasks(2);
  tasks[0].definition = {
      {"prod", 5, std::nullopt, ExportAction::kDescribeReportExport}, "5"};
  tasks[0].polled = tasks[0].up = tasks[0].has_data = true;
  tasks[0].state = poll::ExportState::kFailed;
  tasks[0].status = "-1";
  tasks[0].completed_at = WallTime(std::chrono::seconds(1700000100));
  tasks[1].definition = {
      {"prod", 6, std::nullopt, ExportAction::kDescribeSuspEventExportInfo},
      "6"};
  tasks[1].polled = tasks[1].up = tasks[1].has_data = true;
  tasks[1].progress = 30;
  tasks[1].total_count = 10;
  tasks[1].state = poll::ExportState::kPending;
  tasks[1].status = "pending";
  std::string out;
  AppendTaskMetrics(tasks, out);

  const std::string report =
      "{account=\"prod\",action=\"DescribeReportExport\",export_id=\"5\","
      "rd_account_id=\"\"";
  const std::string susp =
      "{account=\"prod\",action=\"DescribeSuspEventExportInfo\","
      "export_id=\"6\",rd_account_id=\"\"";
  auto has = [&](const std::string& series) {
    return out.find(series) != std::string::npos;
  };
  EXPECT_TRUE(has("aliyun_sas_export_up" + report + "} 1\n"));
  EXPECT_TRUE(
      has("aliyun_sas_export_status" + report + ",status=\"failed\"} 1\n"));
  EXPECT_TRUE(
      has("aliyun_sas_export_status" + report + ",status=\"init\"} 0\n"));
  EXPECT_TRUE(has("aliyun_sas_export_completed_timestamp_seconds" + report +
                  "} 1700000100\n"));
  EXPECT_FALSE(has("aliyun_sas_export_progress_ratio" + report));
  EXPECT_FALSE(has("aliyun_sas_export_current_entries" + report));
  EXPECT_FALSE(has("aliyun_sas_export_total_entries" + report));

  EXPECT_TRUE(has("aliyun_sas_export_progress_ratio" + susp + "} 0.3\n"));
  EXPECT_TRUE(has("aliyun_sas_export_total_entries" + susp + "} 10\n"));
  EXPECT_FALSE(has("aliyun_sas_export_current_entries" + susp));
  EXPECT_TRUE(
      has("aliyun_sas_export_status" + susp + ",status=\"pending\"} 1\n"));
  EXPECT_FALSE(has("aliyun_sas_export_completed_timestamp_seconds" + susp));
}

TEST(TextFormat, LabelValuesEscapeBackslashQuoteAndNewline) {
  std::string out;
  AppendLabelValue(out, "a\\b\"c\nd caf\xc3\xa9");
  EXPECT_EQ(out, "a\\\\b\\\"c\\nd caf\xc3\xa9");
}

TEST(TextFormat, ValuesUseShortestRoundTrip) {
  std::string out;
  AppendValue(out, 0.16);
  out += ' ';
  AppendValue(out, 1700000000.25);
  out += ' ';
  AppendValue(out, 100);
  out += ' ';
  AppendValue(out, 1699000000);
  out += ' ';
  AppendValue(out, 1699000000.5);
  out += ' ';
  AppendValue(out, -0.25);
  out += ' ';
  AppendValue(out, 1e-9);
  EXPECT_EQ(out, "0.16 1700000000.25 100 1699000000 1699000000.5 -0.25 1e-09");
}

TEST(Exposition, BuildInfoNamesVersionAndRevision) {
  std::string out;
  AppendBuildInfo(out);
  EXPECT_NE(out.find("aliyun_sas_exporter_build_info{version=\""),
            std::string::npos);
  for (const char* label :
       {"revision=\"", "branch=\"", "build_date=\"", "compiler=\""}) {
    EXPECT_NE(out.find(label), std::string::npos) << label;
  }
  EXPECT_NE(out.find("\",revision=\""), std::string::npos);
}

}  // namespace
}  // namespace sas::metrics
