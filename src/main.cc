// aliyun_sas_exporter: flags, wiring and signals; the logic lives in the
// libraries.

#include <malloc.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/exporter_app.h"
#include "config/config.h"
#include "poll/shard.h"
#include "util/log.h"
#include "util/version.h"
#include "web/health_check.h"
#include "web/web_security.h"

namespace {

// The platform in Go's spelling, as Prometheus programs print it.
#if defined(__x86_64__)
constexpr const char* kArch = "amd64";
#elif defined(__aarch64__)
constexpr const char* kArch = "arm64";
#else
constexpr const char* kArch = "unknown";
#endif

constexpr const char* kDescription =
    "Prometheus exporter for Alibaba Cloud Security Center export tasks: "
    "polls the export-progress APIs (DescribeExportInfo and its siblings) in "
    "the background and serves the results on "
    "/metrics.";

constexpr const char* kExitStatus =
    "Exit status: 0 success, 1 bad configuration or start-up failure, 2 bad "
    "flags.";

// How often the web config and its certificate files are checked for
// changes.
constexpr sas::Millis kWebConfigCheckPeriod{1'000};

struct Flags {
  std::string config_file = "aliyun_sas_exporter.toml";
  bool config_check = false;
  bool check_accounts = false;
  std::vector<std::string> listen_addresses{":10075"};
  std::string telemetry_path = "/metrics";
  bool enable_task_api = false;
  bool enable_lifecycle = false;
  int max_connections = 256;
  std::string web_config_file;
  std::string storage_path = "data";
  int shard = 0;
  int total_shards = 1;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool version = false;
  bool healthcheck = false;
};

// Parses the flags; returns the exit status to stop with (0 for --help, 2
// for bad flags, with the message printed), or nullopt to go on.
std::optional<int> ParseFlags(int argc, char** argv, Flags* flags) {
  CLI::App app(kDescription, "aliyun_sas_exporter");
  app.footer(kExitStatus);
  // A flag given twice takes its last value, as a wrapper script that
  // appends to a default command line expects; repeatable flags keep all.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--config.file", flags->config_file, "Configuration file")
      ->capture_default_str();
  app.add_flag("--config.check", flags->config_check,
               "Validate the configuration, print problems, exit 0 or 1");
  app.add_flag("--check.accounts", flags->check_accounts,
               "Resolve every account's credentials, call each account's first "
               "task's progress API "
               "once per account, print a table, exit 0 only if all succeed");
  app.add_option("--web.listen-address", flags->listen_addresses,
                 "Address to listen on: host:port, :port or [v6]:port; "
                 "repeatable")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--web.telemetry-path", flags->telemetry_path,
                 "Path of the metrics")
      ->capture_default_str()
      ->check(
          [](const std::string& path) -> std::string {
            if (path.size() < 2 || path.front() != '/' ||
                path == "/api/v1/tasks" || path.starts_with("/-/")) {
              return "must start with / and not be /, /-/... or the task "
                     "API path";
            }
            return "";
          },
          "PATH");
  app.add_flag("--web.enable-task-api", flags->enable_task_api,
               "Serve POST, GET and DELETE /api/v1/tasks");
  app.add_flag("--web.enable-lifecycle", flags->enable_lifecycle,
               "Reload the configuration on POST or PUT /-/reload (SIGHUP "
               "always does)");
  app.add_option("--web.max-connections", flags->max_connections,
                 "Open connections at the most; the longest-idle one makes "
                 "room for a new one")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  app.add_option("--web.config.file", flags->web_config_file,
                 "Prometheus exporter-toolkit web configuration (YAML): TLS "
                 "and basic authentication for every path; re-read when it "
                 "or its certificate files change. Empty: plain HTTP, no "
                 "authentication");
  app.add_option("--storage.path", flags->storage_path,
                 "Where API-registered tasks and task lifecycles are kept")
      ->capture_default_str()
      ->check([](const std::string& path) {
        return path.empty() ? std::string("must not be empty") : "";
      });
  app.add_option("--shard", flags->shard,
                 "This replica's shard, 0..--total-shards-1: it polls only the "
                 "tasks whose identity hash modulo --total-shards is this "
                 "number")
      ->capture_default_str();
  app.add_option("--total-shards", flags->total_shards,
                 "How many replicas split the tasks between them")
      ->capture_default_str();
  app.add_option("--log.level", flags->log_level, "Minimum level to log")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log.format", flags->log_format, "Log line format")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  app.add_flag("--version", flags->version, "Print the version and exit");
  app.add_flag("--healthcheck", flags->healthcheck,
               "GET /-/healthy of the exporter running on the first "
               "--web.listen-address (through loopback), exit 0 if it "
               "answers 200, else 1; for a container HEALTHCHECK. With "
               "--web.config.file: https when it sets TLS, and 401 counts "
               "as healthy when it sets basic auth users");
  app.allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help
  } catch (const CLI::ParseError& e) {
    std::cerr << "aliyun_sas_exporter: " << e.what() << " (see --help)\n";
    return 2;
  }
  if (!app.remaining().empty()) {
    std::cerr << "aliyun_sas_exporter: unknown flag " << app.remaining().front()
              << " (see --help)\n";
    return 2;
  }
  if (std::string problem =
          sas::poll::ShardingProblem(flags->shard, flags->total_shards);
      !problem.empty()) {
    std::cerr << "aliyun_sas_exporter: " << problem << " (see --help)\n";
    return 2;
  }
  return std::nullopt;
}

// Blocks SIGINT, SIGTERM and SIGHUP in every thread so that main can wait
// for them: SIGHUP reloads the configuration, the others stop.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace

int main(int argc, char** argv) {
  // Large blocks (a /metrics page, a snapshot) always come from mmap and go
  // back to the system when freed, instead of glibc raising the threshold
  // and keeping them in the heap after the first big scrape.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  Flags flags;
  if (std::optional<int> status = ParseFlags(argc, argv, &flags)) {
    return *status;
  }
  if (flags.version) {
    std::cout << "aliyun_sas_exporter, version " << sas::kVersion
              << " (branch: " << sas::kBranch
              << ", revision: " << sas::kRevision << ")\n"
              << "  build date:       " << sas::kBuildDate << "\n"
              << "  compiler:         " << sas::kCompiler << "\n"
              << "  platform:         linux/" << kArch << "\n";
    return 0;
  }
  if (flags.healthcheck) {
    std::shared_ptr<const sas::web::WebSecurity> security;
    if (!flags.web_config_file.empty()) {
      sas::web::WebSecurityLoad load = sas::web::LoadWebSecurity(
          sas::app::ProductionSeams().files, flags.web_config_file);
      if (!load.security) {
        std::cerr << "aliyun_sas_exporter: --web.config.file: " << load.error
                  << "\n";
        return 1;
      }
      security = std::move(load.security);
    }
    sas::web::HealthCheckResult result = sas::web::CheckHealth(
        flags.listen_addresses.front(), std::chrono::seconds(5),
        security ? &security->config : nullptr);
    (result.healthy ? std::cout : std::cerr) << result.message << "\n";
    return result.healthy ? 0 : 1;
  }
  auto level = sas::log::ParseLevel(flags.log_level);
  auto format = sas::log::ParseFormat(flags.log_format);
  std::string error;
  sas::log::Configure(*level, *format);

  const sas::app::Seams seams = sas::app::ProductionSeams();
  sas::config::LoadResult loaded = sas::config::LoadConfigFile(
      flags.config_file, seams.environment, seams.files);
  for (const auto& diagnostic : loaded.diagnostics) {
    std::cerr << diagnostic.ToString() << "\n";
  }
  if (!loaded.ok()) {
    std::cerr << "aliyun_sas_exporter: " << flags.config_file
              << ": configuration refused\n";
    return 1;
  }
  // Checked before anything starts: a bad file stops the program here.
  std::unique_ptr<sas::web::WebConfigWatcher> web_config;
  if (!flags.web_config_file.empty()) {
    web_config = sas::web::WebConfigWatcher::Create(
        seams.files, flags.web_config_file, &error);
    if (!web_config) {
      std::cerr << "aliyun_sas_exporter: --web.config.file: " << error << "\n";
      return 1;
    }
  }
  sigset_t stop_signals = BlockStopSignals();
  sas::app::AppOptions options;
  options.config_file = flags.config_file;
  if (web_config) {
    options.web.security = [watcher = web_config.get()] {
      return watcher->Current();
    };
  }
  options.web.listen_addresses = flags.listen_addresses;
  options.web.telemetry_path = flags.telemetry_path;
  options.web.server.max_connections = flags.max_connections;
  options.enable_task_api = flags.enable_task_api;
  options.enable_lifecycle = flags.enable_lifecycle;
  options.storage_path = flags.storage_path;
  options.sharding = {flags.shard, flags.total_shards};
  options.load_state = !flags.config_check && !flags.check_accounts;
  // Building the app reads the files credentials come from (CLI profiles,
  // credentials files) without touching the network, so --config.check
  // catches their problems too.
  std::unique_ptr<sas::app::ExporterApp> app =
      sas::app::ExporterApp::Create(*loaded.config, options, seams, &error);
  if (!app) {
    std::cerr << "aliyun_sas_exporter: " << error << "\n";
    return 1;
  }
  if (flags.config_check) {
    std::cout << flags.config_file << ": configuration OK ("
              << loaded.config->accounts.size() << " accounts, "
              << loaded.config->tasks.size() << " tasks)\n";
    return 0;
  }
  // The parsed configuration (and the TOML tree before it) is no longer
  // needed: give its memory back, so resident memory is the tasks' state.
  loaded = {};
  malloc_trim(0);
  if (flags.check_accounts) return app->CheckAccounts(std::cout) ? 0 : 1;
  if (!app->Start(&error)) {
    sas::log::Error("Cannot start", {{"err", error}});
    return 1;
  }
  std::string tls = "off";
  if (web_config) {
    // Certificates, keys and users rotate without a restart.
    web_config->Start(kWebConfigCheckPeriod);
    if (auto security = web_config->Current(); security->tls) {
      tls = security->tls->description();
    }
  }
  for (const std::string& address : app->listen_addresses()) {
    sas::log::Info("Listening", {{"address", address},
                                 {"telemetry_path", flags.telemetry_path},
                                 {"tls", tls}});
  }
  sas::log::Info("Started",
                 {{"version", sas::kVersion}, {"config", flags.config_file}});

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 &&
         signal_number == SIGHUP) {
    // The outcome is logged and exposed by the app; a refused configuration
    // leaves the running one in force.
    app->Reload(&error);
  }
  sas::log::Info("Stopping",
                 {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  if (web_config) web_config->Stop();
  app->Stop();
  sas::log::Info("Stopped");
  return 0;
}
