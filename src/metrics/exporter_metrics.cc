#include "metrics/exporter_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
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
              .Register(registry)),
      shard_ordinal_(prometheus::BuildGauge()
                         .Name("aliyun_sas_exporter_shard_ordinal")
                         .Help("This replica's --shard: it polls the tasks "
                               "whose identity hash modulo --total-shards is "
                               "this number.")
                         .Register(registry)),
      total_shards_(prometheus::BuildGauge()
                        .Name("aliyun_sas_exporter_total_shards")
                        .Help("The --total-shards the tasks are split into.")
                        .Register(registry)),
      reload_successful_(
          prometheus::BuildGauge()
              .Name("aliyun_sas_exporter_config_last_reload_successful")
              .Help("Whether the last configuration reload attempt was "
                    "successful (the load at start counts as one).")
              .Register(registry)),
      reload_success_time_(
          prometheus::BuildGauge()
              .Name("aliyun_sas_exporter_config_last_reload_success_"
                    "timestamp_seconds")
              .Help("Timestamp of the last successful configuration reload "
                    "(or of the load at start).")
              .Register(registry)) {
  state_load_errors_.Add({});
}

void ExporterMetrics::SetShard(int shard, int total_shards) {
  shard_ordinal_.Add({{"shard_ordinal", std::to_string(shard)}}).Set(shard);
  total_shards_.Add({}).Set(total_shards);
}

void ExporterMetrics::TaskFileError(const std::string& file) {
  task_file_errors_.Add({{"file", file}}).Increment();
}

void ExporterMetrics::StateLoadError() {
  state_load_errors_.Add({}).Increment();
}

void ExporterMetrics::ConfigLoaded(bool success, WallTime now) {
  reload_successful_.Add({}).Set(success ? 1 : 0);
  if (success) {
    reload_success_time_.Add({}).Set(
        std::chrono::duration<double>(now.time_since_epoch()).count());
  }
}

}  // namespace sas::metrics
