#include "metrics/exporter_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace sas::metrics {

ExporterMetrics::ExporterMetrics(prometheus::Registry& registry)
    : task_file_errors_(
          prometheus::BuildCounter()
              .Name("aliyun_sas_exporter_task_file_errors_total")
              .Help("Times a task file could not be read or parsed; its last "
                    "good content stays in use.")
              .Register(registry)),
      state_load_errors_(
          prometheus::BuildCounter()
              .Name("aliyun_sas_exporter_state_load_errors_total")
              .Help("Times the state file could not be read at start; it was "
                    "set aside and the exporter started afresh.")
              .Register(registry)) {
  state_load_errors_.Add({});
}

void ExporterMetrics::TaskFileError(const std::string& file) {
  task_file_errors_.Add({{"file", file}}).Increment();
}

void ExporterMetrics::StateLoadError() {
  state_load_errors_.Add({}).Increment();
}

}  // namespace sas::metrics
