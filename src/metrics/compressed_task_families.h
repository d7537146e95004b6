#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "metrics/task_metrics.h"
#include "poll/task.h"
#include "util/gzip_member.h"

namespace sas::metrics {

// The task families of the page, kept compressed between scrapes, as
// kube-state-metrics keeps each object's rendered lines: the tasks are cut
// into chunks of about kMeanChunkTasks consecutive tasks, and each family's
// series for a chunk are a separately compressed gzip piece, compressed
// again only when a revision of a task of the chunk that the family reads
// (RevisionsOf) moved, or the chunk's tasks are not the same tasks any
// more.
// Where a chunk starts depends on the id of its first task only, so adding
// or removing a task changes one chunk, not the ones after it.
//
// What is kept is compressed text (a few dozen bytes per task) and the ids
// of each chunk's tasks; no uncompressed text outlives a call. Not
// thread-safe: one caller at a time.
class CompressedTaskFamilies {
 public:
  static constexpr size_t kMeanChunkTasks = 128;
  static constexpr size_t kMaxChunkTasks = 4 * kMeanChunkTasks;

  // `threads`: how many threads render and compress the changed pieces of
  // one call (the caller's included); at least 1.
  explicit CompressedTaskFamilies(int threads);

  // Appends every task family for `tasks` (a TaskStore::Snapshot: ordered
  // by key, with ids and revisions) to `member`: exactly the text
  // AppendTaskMetrics gives, less the task count at its end.
  void AppendTo(const std::vector<poll::TaskSnapshot>& tasks,
                gzip::MemberWriter& member);

  // What the latest AppendTo did.
  struct Stats {
    size_t chunks = 0;
    size_t pieces_compressed = 0;  // rendered and compressed in that call
    size_t pieces_reused = 0;      // taken from the call before
    size_t compressed_bytes = 0;   // kept for the next call
  };
  const Stats& last_stats() const { return stats_; }

 private:
  struct Chunk {
    std::vector<poll::TaskId> ids;
    // The largest revisions among its tasks when the pieces were made.
    uint64_t revision = 0;
    uint64_t progress_revision = 0;
    uint64_t success_revision = 0;
    std::array<gzip::DeflatedPiece, kTaskFamilyCount> pieces;
  };

  const int threads_;
  std::array<gzip::DeflatedPiece, kTaskFamilyCount> headers_;
  std::vector<Chunk> chunks_;  // in page order
  Stats stats_;
};

// The machine's cores, at most 4.
int DefaultCompressionThreads();

}  // namespace sas::metrics
