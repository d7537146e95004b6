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

// The whole /metrics page as a scrape renders it: snapshot copy under the
// store's lock, task families, registry, process collector.
void BM_RenderMetricsPage(benchmark::State& state) {
  sas::poll::TaskStore store(std::chrono::hours(1));
  for (const auto& task : MakeTasks(static_cast<int>(state.range(0)))) {
    sas::poll::TaskId id = store.Add(task.definition, task.first_seen);
    sas::aliyun::ExportInfo info;
    info.progress = task.progress;
    info.current_count = task.current_count;
    info.total_count = task.total_count;
    info.export_status = task.status;
    info.file_name = task.file_name;
    store.RecordSuccess(id, info, task.last_success);
  }
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

}  // namespace

BENCHMARK_MAIN();
