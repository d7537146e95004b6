#include "web/status_page.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "util/strings.h"
#include "util/version.h"

namespace sas::web {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr std::string_view kDash = "\u2014";

constexpr std::string_view kHead = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aliyun_sas_exporter: export tasks</title>
<style>
body{font-family:system-ui,sans-serif;margin:1em 1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
nav a{margin-right:1em}
#summary{margin:.8em 0}
#summary span{font-weight:bold}
#summary .failing{color:#b00020}
table{border-collapse:collapse;width:100%;font-size:.88em}
th,td{padding:.3em .5em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num,td.entries,td.since-progress,td.last-poll{white-space:nowrap;font-variant-numeric:tabular-nums}
td.name .file{color:#666;font-size:.85em}
td.progress{white-space:nowrap}
td.progress progress{width:6em;vertical-align:middle;margin-right:.4em}
td.status{font-weight:600;white-space:nowrap}
td.name{overflow-wrap:anywhere}
td.error{overflow-wrap:break-word}
tr[data-state=success] td.status{color:#1b7f3b}
tr[data-state=exporting] td.status{color:#0b5cad}
tr[data-state=unknown] td.status{color:#a15c00}
tr[data-state=failed] td.status{color:#b00020}
tr[data-state=not-polled] td.status,tr[data-state=no-data] td.status{color:#777;font-weight:normal;font-style:italic}
tr.failing{background:#fff1f1}
tr.failing td.error{color:#b00020;font-weight:600}
footer{margin-top:1.2em;color:#777;font-size:.85em}
</style>
</head>
<body>
<h1>aliyun_sas_exporter</h1>
<p>Security Center export tasks, each polled with its progress API
(<code>DescribeExportInfo</code> unless the task names another), from the
exporter's background polls.</p>
)";

// A data-state value: the export state, or why there is none.
std::string_view RowState(const poll::TaskSnapshot& task) {
  if (!task.polled) return "not-polled";
  if (!task.has_data) return "no-data";
  if (!task.state) return "no-status";
  return poll::ExportStateName(*task.state);
}

constexpr std::array<std::string_view, 9> kSummaryStates = {
    "pending", "init",       "exporting", "success",  "failed",
    "unknown", "not-polled", "no-data",   "no-status"};

std::string_view SummaryLabel(std::string_view state) {
  if (state == "not-polled") return "not polled yet";
  if (state == "no-data") return "no data yet";
  if (state == "no-status") return "without a status";
  return state;
}

// "1234567" -> "1,234,567".
std::string GroupThousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string Ago(WallTime then, WallTime now) {
  return FormatAge(duration_cast<seconds>(now - then)) + " ago";
}

void AppendCell(std::string& out, std::string_view css_class,
                std::string_view html) {
  out += "<td class=\"";
  out += css_class;
  out += "\">";
  out += html;
  out += "</td>";
}

void AppendRow(std::string& out, const poll::TaskSnapshot& task, WallTime now) {
  const poll::TaskKey& key = task.definition.key;
  const bool failing = task.polled && !task.up;
  out += "<tr data-account=\"" + HtmlEscape(key.account) + "\" data-action=\"" +
         std::string(aliyun::ExportActionName(key.action)) +
         "\" data-export-id=\"" + std::to_string(key.export_id) +
         "\" data-state=\"" + std::string(RowState(task)) + "\"";
  if (failing) out += " class=\"failing\"";
  out += ">";

  std::string name = HtmlEscape(task.definition.name);
  if (task.has_data && task.file_name && !task.file_name->empty()) {
    name += "<div class=\"file\">" + HtmlEscape(*task.file_name) + "</div>";
  }
  AppendCell(out, "name", name);
  AppendCell(out, "account", HtmlEscape(key.account));
  AppendCell(out, "member",
             key.rd_account_id ? std::to_string(*key.rd_account_id)
                               : std::string(kDash));
  AppendCell(out, "action", std::string(aliyun::ExportActionName(key.action)));
  AppendCell(out, "export-id num", std::to_string(key.export_id));

  std::string status;
  if (!task.polled) {
    status = "not polled yet";
  } else if (!task.has_data) {
    status = "no data yet";
  } else if (!task.status) {
    status = std::string(kDash);
  } else {
    status = HtmlEscape(*task.status);
  }
  AppendCell(out, "status", status);

  if (task.has_data && task.progress) {
    int64_t percent = std::clamp<int64_t>(*task.progress, 0, 100);
    std::string text = std::to_string(*task.progress) + "%";
    AppendCell(out, "progress",
               "<progress max=\"100\" value=\"" + std::to_string(percent) +
                   "\">" + text + "</progress><span class=\"percent\">" + text +
                   "</span>");
  } else {
    AppendCell(out, "progress", kDash);
  }
  if (task.has_data && (task.current_count || task.total_count)) {
    auto count = [](const std::optional<int64_t>& value) {
      return value ? GroupThousands(*value) : std::string(kDash);
    };
    AppendCell(out, "entries",
               count(task.current_count) + " / " + count(task.total_count));
  } else {
    AppendCell(out, "entries", kDash);
  }

  AppendCell(out, "since-progress",
             task.completed_at
                 ? std::string(kDash)
                 : FormatAge(duration_cast<seconds>(now - task.last_progress)));
  AppendCell(out, "last-poll",
             task.polled ? Ago(task.last_poll, now) : std::string("never"));
  AppendCell(out, "error",
             task.last_error_code.empty() ? std::string(kDash)
                                          : HtmlEscape(task.last_error_code));
  out += "</tr>\n";
}

}  // namespace

std::string FormatAge(std::chrono::seconds age) {
  int64_t s = age.count() < 0 ? 0 : age.count();
  constexpr int64_t kMinute = 60, kHour = 60 * kMinute, kDay = 24 * kHour;
  auto two = [](int64_t major, std::string_view major_unit, int64_t minor,
                std::string_view minor_unit) {
    return std::to_string(major) + std::string(major_unit) + " " +
           std::to_string(minor) + std::string(minor_unit);
  };
  if (s < kMinute) return std::to_string(s) + "s";
  if (s < kHour) return two(s / kMinute, "m", s % kMinute, "s");
  if (s < kDay) return two(s / kHour, "h", s % kHour / kMinute, "m");
  return two(s / kDay, "d", s % kDay / kHour, "h");
}

std::string RenderStatusPage(const std::vector<poll::TaskSnapshot>& tasks,
                             WallTime now, const std::string& telemetry_path,
                             poll::Sharding sharding) {
  std::string out(kHead);

  // Relative link: strip the leading slash of the configured path.
  std::string_view metrics_link = telemetry_path;
  if (!metrics_link.empty() && metrics_link.front() == '/') {
    metrics_link.remove_prefix(1);
  }
  out += "<nav><a href=\"" + HtmlEscape(metrics_link) +
         "\">Metrics</a><a href=\"-/healthy\">Health</a>"
         "<a href=\"-/ready\">Readiness</a></nav>\n";

  if (sharding.enabled()) {
    out += "<p id=\"shard\">Shard <span data-shard>" +
           std::to_string(sharding.shard) +
           "</span> of <span data-total-shards>" +
           std::to_string(sharding.total) +
           "</span>: this instance polls and lists only the tasks of its "
           "shard; the other replicas have the rest.</p>\n";
  }

  std::array<int, kSummaryStates.size()> counts{};
  int failing = 0;
  for (const poll::TaskSnapshot& task : tasks) {
    std::string_view state = RowState(task);
    for (size_t i = 0; i < kSummaryStates.size(); ++i) {
      if (kSummaryStates[i] == state) ++counts[i];
    }
    if (task.polled && !task.up) ++failing;
  }
  out += "<p id=\"summary\"><span data-count=\"total\">" +
         std::to_string(tasks.size()) + "</span> tasks: ";
  for (size_t i = 0; i < kSummaryStates.size(); ++i) {
    out += "<span data-count=\"" + std::string(kSummaryStates[i]) + "\">" +
           std::to_string(counts[i]) + "</span> " +
           std::string(SummaryLabel(kSummaryStates[i])) + ", ";
  }
  out += "<span class=\"failing\" data-count=\"failing\">" +
         std::to_string(failing) + "</span> failing.</p>\n";

  out +=
      "<table id=\"tasks\">\n<thead><tr><th>Task</th><th>Account</th>"
      "<th>Member account</th><th>Action</th><th>Export ID</th><th>Status</th>"
      "<th>Progress</th><th>Entries</th><th>Since progress</th>"
      "<th>Last poll</th><th>Last error</th></tr></thead>\n<tbody>\n";
  for (const poll::TaskSnapshot& task : tasks) AppendRow(out, task, now);
  if (tasks.empty()) {
    out += "<tr class=\"empty\"><td colspan=\"11\">No tasks.</td></tr>\n";
  }
  out += "</tbody>\n</table>\n";

  out += "<footer>Rendered " + HtmlEscape(FormatIso8601(now)) +
         "; reloads every 10 s. Version " + HtmlEscape(kVersion) +
         " (revision " + HtmlEscape(kRevision) + ").</footer>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace sas::web
