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

std::string Exposition::Render() const {
  std::vector<poll::TaskSnapshot> tasks = store_.Snapshot();
  std::string out;
  AppendBuildInfo(out);
  AppendTaskMetrics(tasks, out);
  out += prometheus::TextSerializer().Serialize(registry_.Collect());
  if (auto stats = ReadProcessStats()) AppendProcessMetrics(*stats, out);
  return out;
}

}  // namespace sas::metrics
