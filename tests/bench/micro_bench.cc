// Micro-benchmarks of the hot paths: signing, parsing, rendering /metrics.
// Run: make bench  (or build/tests/bench/micro_bench)

#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include "aliyun/request.h"
#include "aliyun/response.h"
#include "aliyun/signing.h"
#include "metrics/exposition.h"
#include "metrics/task_metrics.h"
#include "poll/task_store.h"
#include "util/gzip_member.h"

namespace {

void BM_SignV3(benchmark::State& state) {
  sas::aliyun::RpcCall call{
      "DescribeExportInfo",
      "2018-12-03",
      {{"ExportId", "131231"}, {"ResourceDirectoryAccountId", "16670360956"}}};
  sas::aliyun::Endpoint endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443};
  sas::aliyun::Credentials credentials{
      "LTAI5tExampleKeyId", "ExampleSecretExampleSecret", "", std::nullopt};
  sas::WallTime now(std::chrono::seconds(1700000000));
  for (auto _ : state) {
    auto request = sas::aliyun::BuildSignedRequest(
        call, endpoint, credentials, sas::aliyun::SignatureVersion::kV3, now,
        "3156853299f313e23d1673dc12e1703d", "aliyun_sas_exporter/bench");
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(BM_SignV3);

void BM_ParseDescribeExportInfo(benchmark::State& state) {
  sas::aliyun::HttpResponse response;
  response.status = 200;
  response.body =
      R"({"Link":"https://sas-export.oss-cn-shanghai.aliyuncs.com/x.zip?Expires=1&OSSAccessKeyId=STS.x&Signature=abc","Progress":16,"RequestId":"CE500770-42D3-442E-9DDD-156E0F9F3B45","CurrentCount":20,"Message":"success","FileName":"health_check_export_20171123","TotalCount":100,"ExportStatus":"exporting","Id":131231})";
  for (auto _ : state) {
    auto parsed = sas::aliyun::ParseExportAnswer(
        sas::aliyun::ExportAction::kDescribeExportInfo, response);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ParseDescribeExportInfo);

std::vector<sas::poll::TaskSnapshot> MakeTasks(int n) {
  std::vector<sas::poll::TaskSnapshot> tasks(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& t = tasks[static_cast<size_t>(i)];
    t.definition = {
        {"account-" + std::to_string(i % 10), 100000 + i,
         i % 3 == 0 ? std::optional<int64_t>(16670360956) : std::nullopt},
        "export task " + std::to_string(i)};
    t.polled = t.up = t.has_data = true;
    t.progress = i % 101;
    t.current_count = i * 7;
    t.total_count = i * 10;
    t.state = sas::poll::ExportState::kExporting;
    t.status = "exporting";
    t.file_name = "asset_export_" + std::to_string(i);
    t.last_success = sas::WallTime(std::chrono::milliseconds(1700000000123));
  }
  return tasks;
}

void BM_RenderTaskMetrics(benchmark::State& state) {
  auto tasks = MakeTasks(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    sas::metrics::AppendTaskMetrics(tasks, out);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderTaskMetrics)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

sas::aliyun::ExportInfo AnswerOf(const sas::poll::TaskSnapshot& task) {
  sas::aliyun::ExportInfo info;
  info.progress = task.progress;
  info.current_count = task.current_count;
  info.total_count = task.total_count;
  info.export_status = task.status;
  info.file_name = task.file_name;
  return info;
}

// A store holding MakeTasks(n), each polled once; returns their ids.
std::vector<sas::poll::TaskId> Fill(sas::poll::TaskStore& store, int n) {
  std::vector<sas::poll::TaskId> ids;
  for (const auto& task : MakeTasks(n)) {
    sas::poll::TaskId id = store.Add(task.definition, task.first_seen);
    store.RecordSuccess(id, AnswerOf(task), task.last_success);
    ids.push_back(id);
  }
  return ids;
}

// The whole /metrics page as a scrape renders it: snapshot copy under the
// store's lock, task families, registry, process collector.
void BM_RenderMetricsPage(benchmark::State& state) {
  sas::poll::TaskStore store(std::chrono::hours(1));
  Fill(store, static_cast<int>(state.range(0)));
  prometheus::Registry registry;
  sas::metrics::Exposition exposition(registry, store);
  for (auto _ : state) {
    std::string page = exposition.Render();
    benchmark::DoNotOptimize(page);
  }
}
BENCHMARK(BM_RenderMetricsPage)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

// The page compressed whole at zlib's level 1, as every gzip scrape did
// before the cache.
void BM_GzipWholePage(benchmark::State& state) {
  sas::poll::TaskStore store(std::chrono::hours(1));
  Fill(store, static_cast<int>(state.range(0)));
  prometheus::Registry registry;
  sas::metrics::Exposition exposition(registry, store);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string page = sas::gzip::Compress(exposition.Render());
    bytes = page.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_GzipWholePage)->Arg(10000)->Unit(benchmark::kMillisecond);

// Exposition::RenderGzip with the cached pieces, after `changed` (per mille)
// of the tasks were polled since the previous scrape: kSameAnswer moves
// only their last_success, kNewProgress changes what most families show.
// Arguments: tasks, per mille changed, change kind, compression threads.
enum Change { kSameAnswer = 0, kNewProgress = 1 };
void BM_RenderGzipPage(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int per_mille = static_cast<int>(state.range(1));
  const auto change = static_cast<Change>(state.range(2));
  sas::poll::TaskStore store(std::chrono::hours(1));
  std::vector<sas::poll::TaskId> ids = Fill(store, n);
  std::vector<sas::poll::TaskSnapshot> tasks = MakeTasks(n);
  prometheus::Registry registry;
  sas::metrics::Exposition exposition(registry, store,
                                      static_cast<int>(state.range(3)));
  exposition.RenderGzip();
  int64_t round = 0;
  size_t bytes = 0;
  const size_t step = per_mille > 0 ? static_cast<size_t>(1000 / per_mille) : 1;
  for (auto _ : state) {
    state.PauseTiming();
    ++round;
    for (size_t i = static_cast<size_t>(round) % step;
         per_mille > 0 && i < ids.size(); i += step) {
      sas::aliyun::ExportInfo info = AnswerOf(tasks[i]);
      if (change == kNewProgress) *info.current_count += round;
      store.RecordSuccess(
          ids[i], info,
          tasks[i].last_success + std::chrono::milliseconds(round * 1000));
    }
    state.ResumeTiming();
    std::string page = exposition.RenderGzip();
    bytes = page.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["pieces"] =
      static_cast<double>(exposition.TaskFamilyStats().pieces_compressed);
}
BENCHMARK(BM_RenderGzipPage)
    ->ArgNames({"tasks", "changed_per_mille", "progress", "threads"})
    ->Args({10000, 0, kSameAnswer, 1})
    ->Args({10000, 250, kSameAnswer, 1})
    ->Args({10000, 1000, kSameAnswer, 1})
    ->Args({10000, 1000, kNewProgress, 1})
    ->Args({10000, 1000, kNewProgress, 2})
    ->Args({50000, 17, kNewProgress, 2})
    ->Args({50000, 250, kSameAnswer, 2})
    ->Args({50000, 1000, kNewProgress, 2})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
