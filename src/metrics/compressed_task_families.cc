#include "metrics/compressed_task_families.h"

#include <algorithm>
#include <atomic>
#include <span>
#include <thread>
#include <unordered_map>

namespace sas::metrics {
namespace {

// Whether a task starts a chunk: true for about one id in kMeanChunkTasks,
// spread over the key order by a mixing function (splitmix64's finaliser).
bool StartsChunk(poll::TaskId id) {
  uint64_t x = id;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x % CompressedTaskFamilies::kMeanChunkTasks == 0;
}

struct Range {
  size_t begin = 0;
  size_t end = 0;
};

struct Job {
  size_t chunk = 0;
  TaskFamily family{};
};

}  // namespace

int DefaultCompressionThreads() {
  unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 1u, 4u));
}

CompressedTaskFamilies::CompressedTaskFamilies(int threads)
    : threads_(std::max(threads, 1)) {
  gzip::PieceDeflater deflater;
  std::string text;
  for (int f = 0; f < kTaskFamilyCount; ++f) {
    text.clear();
    AppendTaskFamilyHeader(static_cast<TaskFamily>(f), text);
    headers_[static_cast<size_t>(f)] = deflater.Deflate(text);
  }
}

void CompressedTaskFamilies::AppendTo(
    const std::vector<poll::TaskSnapshot>& tasks, gzip::MemberWriter& member) {
  std::vector<Range> ranges;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (ranges.empty() || StartsChunk(tasks[i].id) ||
        i - ranges.back().begin >= kMaxChunkTasks) {
      ranges.push_back({i, i});
    }
    ranges.back().end = i + 1;
  }

  std::unordered_map<poll::TaskId, size_t> previous_by_first;
  previous_by_first.reserve(chunks_.size());
  for (size_t i = 0; i < chunks_.size(); ++i) {
    previous_by_first.emplace(chunks_[i].ids.front(), i);
  }

  stats_ = Stats{};
  std::vector<Chunk> next(ranges.size());
  std::vector<Job> jobs;
  for (size_t c = 0; c < ranges.size(); ++c) {
    Chunk& chunk = next[c];
    chunk.ids.reserve(ranges[c].end - ranges[c].begin);
    for (size_t i = ranges[c].begin; i < ranges[c].end; ++i) {
      chunk.ids.push_back(tasks[i].id);
      chunk.revision = std::max(chunk.revision, tasks[i].revision);
      chunk.progress_revision =
          std::max(chunk.progress_revision, tasks[i].progress_revision);
      chunk.success_revision =
          std::max(chunk.success_revision, tasks[i].success_revision);
    }
    Chunk* previous = nullptr;
    if (auto it = previous_by_first.find(chunk.ids.front());
        it != previous_by_first.end() && chunks_[it->second].ids == chunk.ids) {
      previous = &chunks_[it->second];
    }
    for (int f = 0; f < kTaskFamilyCount; ++f) {
      auto family = static_cast<TaskFamily>(f);
      RevisionsRead reads = RevisionsOf(family);
      bool unchanged = previous != nullptr &&
                       previous->revision == chunk.revision &&
                       (!reads.progress || previous->progress_revision ==
                                               chunk.progress_revision) &&
                       (!reads.success ||
                        previous->success_revision == chunk.success_revision);
      if (unchanged) {
        chunk.pieces[static_cast<size_t>(f)] =
            std::move(previous->pieces[static_cast<size_t>(f)]);
        ++stats_.pieces_reused;
      } else {
        jobs.push_back({c, family});
      }
    }
  }

  // Render and compress the changed pieces; each job writes its own slot,
  // so the result does not depend on which thread ran it.
  std::atomic<size_t> next_job{0};
  auto work = [&] {
    gzip::PieceDeflater deflater;
    std::string text;
    for (size_t j = next_job++; j < jobs.size(); j = next_job++) {
      const Range& range = ranges[jobs[j].chunk];
      text.clear();
      AppendTaskFamilySeries(
          jobs[j].family,
          std::span(tasks).subspan(range.begin, range.end - range.begin), text);
      next[jobs[j].chunk].pieces[static_cast<size_t>(jobs[j].family)] =
          deflater.Deflate(text);
    }
  };
  // A helper thread costs tens of microseconds to start: worth it only
  // for several pieces.
  constexpr size_t kJobsPerThread = 8;
  size_t helpers =
      std::min(static_cast<size_t>(threads_ - 1), jobs.size() / kJobsPerThread);
  std::vector<std::thread> pool;
  for (size_t i = 0; i < helpers; ++i) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  stats_.pieces_compressed = jobs.size();

  for (int f = 0; f < kTaskFamilyCount; ++f) {
    member.Append(headers_[static_cast<size_t>(f)]);
    for (const Chunk& chunk : next) {
      member.Append(chunk.pieces[static_cast<size_t>(f)]);
    }
  }
  chunks_ = std::move(next);
  stats_.chunks = chunks_.size();
  for (const Chunk& chunk : chunks_) {
    for (const gzip::DeflatedPiece& piece : chunk.pieces) {
      stats_.compressed_bytes += piece.deflated.size();
    }
  }
}

}  // namespace sas::metrics
