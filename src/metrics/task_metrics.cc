#include "metrics/task_metrics.h"

#include "metrics/text_format.h"

namespace sas::metrics {
namespace {

using poll::TaskSnapshot;

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

struct FamilyText {
  std::string_view name;
  std::string_view help;
};

FamilyText Describe(TaskFamily family) {
  switch (family) {
    case TaskFamily::kProgressRatio:
      return {"aliyun_sas_export_progress_ratio",
              "Export progress (Progress / 100, above 1 when the API said "
              "more than 100) from the latest successful background poll; "
              "absent when that answer had no Progress."};
    case TaskFamily::kCurrentEntries:
      return {"aliyun_sas_export_current_entries",
              "Entries exported so far (CurrentCount) from the latest "
              "successful background poll; absent when that answer had "
              "none."};
    case TaskFamily::kTotalEntries:
      return {"aliyun_sas_export_total_entries",
              "Entries the export will contain (TotalCount) from the latest "
              "successful background poll; absent when that answer had "
              "none."};
    case TaskFamily::kStatus:
      return {"aliyun_sas_export_status",
              "Export status (ExportStatus; DescribeHcExportInfo: "
              "ResultStatus) from the latest successful background poll: 1 "
              "for the current state, 0 for the others; unknown is any value "
              "the action does not document. Absent when that answer had no "
              "status."};
    case TaskFamily::kInfo:
      return {"aliyun_sas_export_info",
              "Export task metadata, value 1: task is the configured name, "
              "file_name the FileName of the latest successful background "
              "poll."};
    case TaskFamily::kUp:
      return {"aliyun_sas_export_up",
              "1 when the latest background poll of the task succeeded, else "
              "0."};
    case TaskFamily::kLastSuccess:
      return {"aliyun_sas_export_last_success_timestamp_seconds",
              "Unix time of the latest successful background poll of the "
              "task."};
    case TaskFamily::kFirstSeen:
      return {"aliyun_sas_export_first_seen_timestamp_seconds",
              "Unix time when the exporter first learned of the task (its "
              "created_at when given)."};
    case TaskFamily::kLastProgress:
      return {"aliyun_sas_export_last_progress_timestamp_seconds",
              "Unix time when background polls last saw Progress or "
              "CurrentCount change (first seen until the first successful "
              "poll)."};
    case TaskFamily::kCompleted:
      return {"aliyun_sas_export_completed_timestamp_seconds",
              "Unix time when a background poll first saw the export "
              "finished (status success or failed); absent before."};
  }
  return {};
}

// A gauge with one series per task that `value` gives a value for.
template <typename ValueFn>
void AppendGaugeSeries(std::string& out, std::string_view name,
                       std::span<const TaskSnapshot> tasks, ValueFn value) {
  for (const TaskSnapshot& task : tasks) {
    std::optional<double> sample = value(task);
    if (!sample) continue;
    AppendSeriesStart(out, name, task.definition.key);
    out += "} ";
    AppendValue(out, *sample);
    out += '\n';
  }
}

// A gauge from an optional field: a task whose latest answer lacked the
// field has no series.
std::optional<double> Scaled(const TaskSnapshot& task,
                             const std::optional<int64_t>& field,
                             double scale) {
  if (!task.has_data || !field) return std::nullopt;
  return static_cast<double>(*field) * scale;
}

}  // namespace

void AppendTaskFamilyHeader(TaskFamily family, std::string& out) {
  FamilyText text = Describe(family);
  AppendHeader(out, text.name, text.help, "gauge");
}

RevisionsRead RevisionsOf(TaskFamily family) {
  switch (family) {
    case TaskFamily::kProgressRatio:
    case TaskFamily::kCurrentEntries:
    case TaskFamily::kLastProgress:
      return {.progress = true};
    case TaskFamily::kLastSuccess:
      return {.success = true};
    default:
      return {};
  }
}

void AppendTaskFamilySeries(TaskFamily family,
                            std::span<const TaskSnapshot> tasks,
                            std::string& out) {
  const std::string_view name = Describe(family).name;
  switch (family) {
    case TaskFamily::kProgressRatio:
      return AppendGaugeSeries(out, name, tasks, [](const TaskSnapshot& t) {
        return Scaled(t, t.progress, 0.01);
      });
    case TaskFamily::kCurrentEntries:
      return AppendGaugeSeries(out, name, tasks, [](const TaskSnapshot& t) {
        return Scaled(t, t.current_count, 1.0);
      });
    case TaskFamily::kTotalEntries:
      return AppendGaugeSeries(out, name, tasks, [](const TaskSnapshot& t) {
        return Scaled(t, t.total_count, 1.0);
      });
    case TaskFamily::kStatus:
      for (const TaskSnapshot& task : tasks) {
        if (!task.has_data || !task.state) continue;
        for (int i = 0; i < poll::kExportStateCount; ++i) {
          auto state = static_cast<poll::ExportState>(i);
          AppendSeriesStart(out, name, task.definition.key);
          out += ",status=\"";
          out += poll::ExportStateName(state);
          out += *task.state == state ? "\"} 1\n" : "\"} 0\n";
        }
      }
      return;
    case TaskFamily::kInfo:
      for (const TaskSnapshot& task : tasks) {
        if (!task.polled) continue;
        AppendSeriesStart(out, name, task.definition.key);
        out += ",task=\"";
        AppendLabelValue(out, task.definition.name);
        out += "\",file_name=\"";
        AppendLabelValue(out, task.file_name.value_or(""));
        out += "\"} 1\n";
      }
      return;
    case TaskFamily::kUp:
      return AppendGaugeSeries(
          out, name, tasks, [](const TaskSnapshot& t) -> std::optional<double> {
            if (!t.polled) return std::nullopt;
            return t.up ? 1.0 : 0.0;
          });
    case TaskFamily::kLastSuccess:
      return AppendGaugeSeries(
          out, name, tasks, [](const TaskSnapshot& t) -> std::optional<double> {
            if (!t.has_data) return std::nullopt;
            return ToUnixSeconds(t.last_success);
          });
    case TaskFamily::kFirstSeen:
      return AppendGaugeSeries(
          out, name, tasks, [](const TaskSnapshot& t) -> std::optional<double> {
            return ToUnixSeconds(t.first_seen);
          });
    case TaskFamily::kLastProgress:
      return AppendGaugeSeries(
          out, name, tasks, [](const TaskSnapshot& t) -> std::optional<double> {
            return ToUnixSeconds(t.last_progress);
          });
    case TaskFamily::kCompleted:
      return AppendGaugeSeries(
          out, name, tasks, [](const TaskSnapshot& t) -> std::optional<double> {
            if (!t.completed_at) return std::nullopt;
            return ToUnixSeconds(*t.completed_at);
          });
  }
}

void AppendTaskCount(size_t tasks, std::string& out) {
  AppendHeader(out, "aliyun_sas_exporter_tasks",
               "Export tasks tracked by the exporter.", "gauge");
  out += "aliyun_sas_exporter_tasks ";
  AppendInteger(out, static_cast<int64_t>(tasks));
  out += '\n';
}

void AppendTaskMetrics(const std::vector<poll::TaskSnapshot>& tasks,
                       std::string& out) {
  // About 15 series of ~120 bytes per task.
  out.reserve(out.size() + tasks.size() * 1800 + 4096);
  for (int f = 0; f < kTaskFamilyCount; ++f) {
    auto family = static_cast<TaskFamily>(f);
    AppendTaskFamilyHeader(family, out);
    AppendTaskFamilySeries(family, tasks, out);
  }
  AppendTaskCount(tasks.size(), out);
}

}  // namespace sas::metrics
