#include "metrics/task_metrics.h"

#include "metrics/text_format.h"

namespace sas::metrics {
namespace {

// Writes `name{account="..",action="..",export_id="..",rd_account_id=".."`
// without the closing brace, so callers can add labels.
void AppendSeriesStart(std::string& out, std::string_view name,
                       const poll::TaskKey& key) {
  out += name;
  out += "{account=\"";
  AppendLabelValue(out, key.account);
  out += "\",action=\"";
  out += aliyun::ExportActionName(key.action);
  out += "\",export_id=\"";
  AppendInteger(out, key.export_id);
  out += "\",rd_account_id=\"";
  if (key.rd_account_id) AppendInteger(out, *key.rd_account_id);
  out += '"';
}

template <typename ValueFn>
void AppendGaugeFamily(std::string& out, std::string_view name,
                       std::string_view help,
                       const std::vector<poll::TaskSnapshot>& tasks,
                       bool (*include)(const poll::TaskSnapshot&),
                       ValueFn value) {
  AppendHeader(out, name, help, "gauge");
  for (const poll::TaskSnapshot& task : tasks) {
    if (!include(task)) continue;
    AppendSeriesStart(out, name, task.definition.key);
    out += "} ";
    AppendValue(out, value(task));
    out += '\n';
  }
}

// A gauge from an optional field: a task whose latest answer lacked the
// field has no series.
void AppendOptionalGauge(std::string& out, std::string_view name,
                         std::string_view help,
                         const std::vector<poll::TaskSnapshot>& tasks,
                         double scale,
                         std::optional<int64_t> poll::TaskSnapshot::*field) {
  AppendHeader(out, name, help, "gauge");
  for (const poll::TaskSnapshot& task : tasks) {
    const std::optional<int64_t>& value = task.*field;
    if (!task.has_data || !value) continue;
    AppendSeriesStart(out, name, task.definition.key);
    out += "} ";
    AppendValue(out, static_cast<double>(*value) * scale);
    out += '\n';
  }
}

bool HasData(const poll::TaskSnapshot& task) { return task.has_data; }
bool Polled(const poll::TaskSnapshot& task) { return task.polled; }
bool Tracked(const poll::TaskSnapshot&) { return true; }
bool Completed(const poll::TaskSnapshot& task) {
  return task.completed_at.has_value();
}

}  // namespace

void AppendTaskMetrics(const std::vector<poll::TaskSnapshot>& tasks,
                       std::string& out) {
  // About 10 series of ~130 bytes per task.
  out.reserve(out.size() + tasks.size() * 1400 + 4096);

  AppendOptionalGauge(
      out, "aliyun_sas_export_progress_ratio",
      "Export progress (Progress / 100, above 1 when the API said more than "
      "100) from the latest successful background poll; absent when that "
      "answer had no Progress.",
      tasks, 0.01, &poll::TaskSnapshot::progress);
  AppendOptionalGauge(
      out, "aliyun_sas_export_current_entries",
      "Entries exported so far (CurrentCount) from the latest successful "
      "background poll; absent when that answer had none.",
      tasks, 1.0, &poll::TaskSnapshot::current_count);
  AppendOptionalGauge(
      out, "aliyun_sas_export_total_entries",
      "Entries the export will contain (TotalCount) from the latest "
      "successful background poll; absent when that answer had none.",
      tasks, 1.0, &poll::TaskSnapshot::total_count);

  constexpr std::string_view kStatus = "aliyun_sas_export_status";
  AppendHeader(out, kStatus,
               "Export status (ExportStatus; DescribeHcExportInfo: "
               "ResultStatus) from the latest successful background poll: 1 "
               "for the current state, 0 for the others; unknown is any value "
               "the action does not document. Absent when that answer had no "
               "status.",
               "gauge");
  for (const poll::TaskSnapshot& task : tasks) {
    if (!task.has_data || !task.state) continue;
    for (int i = 0; i < poll::kExportStateCount; ++i) {
      auto state = static_cast<poll::ExportState>(i);
      AppendSeriesStart(out, kStatus, task.definition.key);
      out += ",status=\"";
      out += poll::ExportStateName(state);
      out += *task.state == state ? "\"} 1\n" : "\"} 0\n";
    }
  }

  constexpr std::string_view kInfo = "aliyun_sas_export_info";
  AppendHeader(out, kInfo,
               "Export task metadata, value 1: task is the configured name, "
               "file_name the FileName of the latest successful background "
               "poll.",
               "gauge");
  for (const poll::TaskSnapshot& task : tasks) {
    if (!task.polled) continue;
    AppendSeriesStart(out, kInfo, task.definition.key);
    out += ",task=\"";
    AppendLabelValue(out, task.definition.name);
    out += "\",file_name=\"";
    AppendLabelValue(out, task.file_name.value_or(""));
    out += "\"} 1\n";
  }

  AppendGaugeFamily(
      out, "aliyun_sas_export_up",
      "1 when the latest background poll of the task succeeded, else 0.", tasks,
      Polled, [](const poll::TaskSnapshot& t) { return t.up ? 1.0 : 0.0; });
  AppendGaugeFamily(
      out, "aliyun_sas_export_last_success_timestamp_seconds",
      "Unix time of the latest successful background poll of the task.", tasks,
      HasData, [](const poll::TaskSnapshot& t) {
        return ToUnixSeconds(t.last_success);
      });

  AppendGaugeFamily(
      out, "aliyun_sas_export_first_seen_timestamp_seconds",
      "Unix time when the exporter first learned of the task (its created_at "
      "when given).",
      tasks, Tracked,
      [](const poll::TaskSnapshot& t) { return ToUnixSeconds(t.first_seen); });
  AppendGaugeFamily(
      out, "aliyun_sas_export_last_progress_timestamp_seconds",
      "Unix time when background polls last saw Progress or CurrentCount "
      "change (first seen until the first successful poll).",
      tasks, Tracked, [](const poll::TaskSnapshot& t) {
        return ToUnixSeconds(t.last_progress);
      });
  AppendGaugeFamily(
      out, "aliyun_sas_export_completed_timestamp_seconds",
      "Unix time when a background poll first saw the export finished "
      "(status success or failed); absent before.",
      tasks, Completed, [](const poll::TaskSnapshot& t) {
        return ToUnixSeconds(*t.completed_at);
      });

  AppendHeader(out, "aliyun_sas_exporter_tasks",
               "Export tasks tracked by the exporter.", "gauge");
  out += "aliyun_sas_exporter_tasks ";
  AppendInteger(out, static_cast<int64_t>(tasks.size()));
  out += '\n';
}

}  // namespace sas::metrics
