// config::ParseConfig. Input: the TOML text. Secrets named by *_env and
// *_file resolve to canaries that no diagnostic may contain.

#include "config/config.h"

#include <string>

#include "fuzz_support.h"
#include "support/map_environment.h"
#include "support/memory_file_system.h"

namespace {

constexpr char kEnvironmentSecret[] = "ENV-canary-9f2c61";
constexpr char kFileSecret[] = "FILE-canary-4be07d";

struct Seams {
  Seams() {
    for (const char* name : {"SECRET", "ACCESS_KEY_SECRET", "TOKEN", "KEY"}) {
      environment.Set(name, kEnvironmentSecret);
    }
    for (const char* path : {"secret", "/run/secrets/key", "token"}) {
      files.Add(path, std::string(kFileSecret) + "\n");
    }
    // Mode 0644: a secret file others may read (a warning or an error).
    files.Add("shared-secret", kFileSecret, /*readable_by_others=*/true);
    files.Add("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  }
  sas::testing::MapEnvironment environment;
  sas::testing::MemoryFileSystem files;
};

std::string Diagnostics(const sas::config::LoadResult& result) {
  std::string all;
  for (const sas::Diagnostic& diagnostic : result.diagnostics) {
    all += diagnostic.ToString() + "\n";
  }
  return all;
}

}  // namespace

SAS_FUZZ_TARGET(config) {
  static const Seams* seams = new Seams();
  std::string_view text = sas::fuzz::AsText(data, size);
  sas::config::LoadResult result = sas::config::ParseConfig(
      text, "exporter.toml", seams->environment, seams->files);
  bool has_error = false;
  for (const sas::Diagnostic& diagnostic : result.diagnostics) {
    has_error =
        has_error || diagnostic.severity == sas::Diagnostic::Severity::kError;
    SAS_FUZZ_CHECK(diagnostic.position.file == "exporter.toml",
                   "a diagnostic that names another file");
    SAS_FUZZ_CHECK(
        diagnostic.position.line >= 0 && diagnostic.position.column >= 0,
        "a negative position");
    SAS_FUZZ_CHECK(!diagnostic.message.empty(), "an empty diagnostic");
  }
  SAS_FUZZ_CHECK(result.ok() != has_error,
                 "ok() disagrees with the error diagnostics");
  std::string all = Diagnostics(result);
  if (text.find("canary") == std::string_view::npos) {
    SAS_FUZZ_CHECK(all.find("canary") == std::string::npos,
                   "a diagnostic quotes a secret from the environment or a "
                   "file");
  }
  if (result.ok()) {
    const sas::config::ExporterConfig& exporter = result.config->exporter;
    SAS_FUZZ_CHECK(exporter.poll_interval >= sas::config::kMinPollInterval &&
                       exporter.poll_interval <= sas::config::kMaxPollInterval,
                   "poll_interval outside its bounds");
    SAS_FUZZ_CHECK(exporter.concurrency >= 1 && exporter.concurrency <= 256,
                   "concurrency outside 1..256");
    SAS_FUZZ_CHECK(exporter.max_retries >= 0 && exporter.max_retries <= 10,
                   "max_retries outside 0..10");
    SAS_FUZZ_CHECK(exporter.max_tasks >= 1 && exporter.max_tasks <= 1'000'000,
                   "max_tasks outside its bounds");
    for (const sas::config::AccountConfig& account : result.config->accounts) {
      SAS_FUZZ_CHECK(account.max_requests_per_second > 0 &&
                         account.max_requests_per_second <= 10000,
                     "max_requests_per_second outside its bounds");
    }
    for (const sas::config::TaskConfig& task : result.config->tasks) {
      SAS_FUZZ_CHECK(
          task.export_id > 0 &&
              task.export_id <= sas::aliyun::MaxExportId(task.action),
          "an export_id outside the action's range");
    }
  }
  // Loading is a function of the text and the seams.
  sas::config::LoadResult again = sas::config::ParseConfig(
      text, "exporter.toml", seams->environment, seams->files);
  SAS_FUZZ_CHECK(Diagnostics(again) == all && again.ok() == result.ok(),
                 "loading the same text twice differs");
}
