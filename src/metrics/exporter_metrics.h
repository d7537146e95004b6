#pragma once

#include <string>

#include "metrics/prometheus_fwd.h"
#include "util/clock.h"

namespace sas::metrics {

// The exporter's own troubles with its inputs, in a prometheus-cpp registry:
//   aliyun_sas_exporter_task_file_errors_total{file}
//   aliyun_sas_exporter_state_load_errors_total (0 from the start)
//   aliyun_sas_exporter_shard_ordinal{shard_ordinal},
//   aliyun_sas_exporter_total_shards (as kube-state-metrics names them)
//   aliyun_sas_exporter_config_last_reload_successful (0 or 1)
//   aliyun_sas_exporter_config_last_reload_success_timestamp_seconds
// as Prometheus and blackbox_exporter name the last two; they are absent
// until the first ConfigLoaded. Thread-safe.
class ExporterMetrics {
 public:
  explicit ExporterMetrics(prometheus::Registry& registry);

  // A task file could not be read or parsed; its last good content stays.
  void TaskFileError(const std::string& file);
  // The state file could not be read at start and was set aside.
  void StateLoadError();
  // This replica's --shard and --total-shards; call once, at start.
  void SetShard(int shard, int total_shards);
  // The configuration was loaded (at start) or a reload was tried: the
  // gauge shows `success`; the timestamp moves to `now` on success only.
  void ConfigLoaded(bool success, WallTime now);

 private:
  prometheus::Family<prometheus::Counter>& task_file_errors_;
  prometheus::Family<prometheus::Counter>& state_load_errors_;
  prometheus::Family<prometheus::Gauge>& shard_ordinal_;
  prometheus::Family<prometheus::Gauge>& total_shards_;
  prometheus::Family<prometheus::Gauge>& reload_successful_;
  prometheus::Family<prometheus::Gauge>& reload_success_time_;
};

}  // namespace sas::metrics
