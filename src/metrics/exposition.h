#pragma once

#include <string>
#include <vector>

#include "poll/task.h"
#include "poll/task_store.h"

namespace prometheus {
class Registry;
}

namespace sas::metrics {

// Renders the whole /metrics page: build info, the task families from a
// snapshot, the registry's families (API instrumentation), and the process
// collector. Reads only in-memory state: a scrape never calls the cloud.
// Thread-safe.
class Exposition {
 public:
  Exposition(const prometheus::Registry& registry, const poll::TaskStore& store)
      : registry_(registry), store_(store) {}

  std::string Render() const;

 private:
  const prometheus::Registry& registry_;
  const poll::TaskStore& store_;
};

// aliyun_sas_exporter_build_info{version, revision, branch, build_date,
// compiler} 1.
void AppendBuildInfo(std::string& out);

}  // namespace sas::metrics
