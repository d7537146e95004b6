#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "metrics/compressed_task_families.h"
#include "poll/task.h"
#include "poll/task_store.h"
#include "util/gzip_member.h"

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
  // `compression_threads`: see CompressedTaskFamilies.
  Exposition(const prometheus::Registry& registry, const poll::TaskStore& store,
             int compression_threads = DefaultCompressionThreads())
      : registry_(registry),
        store_(store),
        task_families_(compression_threads) {}

  // The page as text.
  std::string Render() const;
  // The same page, from a snapshot taken after the call began, as one gzip
  // member. The task families come from CompressedTaskFamilies, so only
  // what changed since the previous call is compressed again. Calls run one
  // at a time.
  std::string RenderGzip();
  // What the latest RenderGzip did with the task families.
  CompressedTaskFamilies::Stats TaskFamilyStats() const;

 private:
  // The registry's families and the process collector.
  void AppendOtherFamilies(std::string& out) const;

  const prometheus::Registry& registry_;
  const poll::TaskStore& store_;
  mutable std::mutex gzip_mutex_;
  // Guarded by gzip_mutex_.
  CompressedTaskFamilies task_families_;
  gzip::PieceDeflater deflater_;
};

// aliyun_sas_exporter_build_info{version, revision, branch, build_date,
// compiler} 1.
void AppendBuildInfo(std::string& out);

}  // namespace sas::metrics
