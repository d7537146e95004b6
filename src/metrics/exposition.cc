#include "metrics/exposition.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "metrics/process_metrics.h"
#include "metrics/task_metrics.h"
#include "metrics/text_format.h"
#include "util/version.h"

namespace sas::metrics {

void AppendBuildInfo(std::string& out) {
  AppendHeader(out, "aliyun_sas_exporter_build_info",
               "A metric with a constant '1' value labeled by version, "
               "revision, branch, build date and compiler from which "
               "aliyun_sas_exporter was built.",
               "gauge");
  out += "aliyun_sas_exporter_build_info{version=\"";
  AppendLabelValue(out, kVersion);
  out += "\",revision=\"";
  AppendLabelValue(out, kRevision);
  out += "\",branch=\"";
  AppendLabelValue(out, kBranch);
  out += "\",build_date=\"";
  AppendLabelValue(out, kBuildDate);
  out += "\",compiler=\"";
  AppendLabelValue(out, kCompiler);
  out += "\"} 1\n";
}

void Exposition::AppendOtherFamilies(std::string& out) const {
  out += prometheus::TextSerializer().Serialize(registry_.Collect());
  if (auto stats = ReadProcessStats()) AppendProcessMetrics(*stats, out);
}

std::string Exposition::Render() const {
  std::vector<poll::TaskSnapshot> tasks = store_.Snapshot();
  std::string out;
  AppendBuildInfo(out);
  AppendTaskMetrics(tasks, out);
  AppendOtherFamilies(out);
  return out;
}

std::string Exposition::RenderGzip() {
  std::lock_guard lock(gzip_mutex_);
  std::vector<poll::TaskSnapshot> tasks = store_.Snapshot();
  gzip::MemberWriter member;
  std::string text;
  AppendBuildInfo(text);
  member.Append(deflater_.Deflate(text));
  task_families_.AppendTo(tasks, member);
  text.clear();
  AppendTaskCount(tasks.size(), text);
  AppendOtherFamilies(text);
  member.Append(deflater_.Deflate(text));
  return member.Finish();
}

CompressedTaskFamilies::Stats Exposition::TaskFamilyStats() const {
  std::lock_guard lock(gzip_mutex_);
  return task_families_.last_stats();
}

}  // namespace sas::metrics
