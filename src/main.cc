// aliyun_sas_exporter: flags, wiring and signals; the logic lives in the
// libraries.

#include <malloc.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "app/exporter_app.h"
#include "config/config.h"
#include "util/log.h"
#include "util/version.h"

namespace {

constexpr const char* kUsage = R"(usage: aliyun_sas_exporter [flags]

Prometheus exporter for Alibaba Cloud Security Center export tasks: polls
DescribeExportInfo in the background and serves the results on /metrics.

Flags:
  --config.file=PATH           configuration file (default aliyun_sas_exporter.toml)
  --config.check               validate the configuration, print problems, exit 0 or 1
  --check.accounts             resolve every account's credentials, call
                               DescribeExportInfo once per account, print a
                               table, exit 0 only if all succeed
  --web.listen-address=ADDR    address to listen on, repeatable (default :10075)
  --web.telemetry-path=PATH    path of the metrics (default /metrics)
  --web.enable-task-api        serve POST/GET/DELETE /api/v1/tasks
  --web.max-connections=N      open connections at the most, 1 to 65536
                               (default 256); idle ones make room first
  --storage.path=DIR           where API-registered tasks are kept (default data)
  --log.level=LEVEL            debug, info, warn or error (default info)
  --log.format=FORMAT          logfmt or json (default logfmt)
  --version                    print the version and exit
  --help                       print this help and exit

Exit status: 0 success, 1 bad configuration or start-up failure, 2 bad flags.
)";

struct Flags {
  std::string config_file = "aliyun_sas_exporter.toml";
  bool config_check = false;
  bool check_accounts = false;
  std::vector<std::string> listen_addresses;
  std::string telemetry_path = "/metrics";
  bool enable_task_api = false;
  int max_connections = 256;
  std::string storage_path = "data";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool version = false;
  bool help = false;
};

// Parses --name=value and --name value. Returns false with *error.
bool ParseFlags(int argc, char** argv, Flags* flags, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    auto take_value = [&]() {
      if (has_value) return true;
      if (i + 1 >= argc) {
        *error = "flag " + name + " needs a value";
        return false;
      }
      value = argv[++i];
      return true;
    };
    auto boolean = [&](bool* target) {
      if (!has_value || value == "true") {
        *target = true;
      } else if (value == "false") {
        *target = false;
      } else {
        *error = "flag " + name + " takes true or false, not \"" + value + "\"";
        return false;
      }
      return true;
    };
    if (name == "--config.file") {
      if (!take_value()) return false;
      flags->config_file = value;
    } else if (name == "--config.check") {
      if (!boolean(&flags->config_check)) return false;
    } else if (name == "--check.accounts") {
      if (!boolean(&flags->check_accounts)) return false;
    } else if (name == "--web.listen-address") {
      if (!take_value()) return false;
      flags->listen_addresses.push_back(value);
    } else if (name == "--web.telemetry-path") {
      if (!take_value()) return false;
      if (value.empty() || value[0] != '/' || value == "/" ||
          value.rfind("/-/", 0) == 0) {
        *error =
            "--web.telemetry-path must start with / and not be / or "
            "under /-/, got \"" +
            value + "\"";
        return false;
      }
      flags->telemetry_path = value;
    } else if (name == "--web.enable-task-api") {
      if (!boolean(&flags->enable_task_api)) return false;
    } else if (name == "--web.max-connections") {
      if (!take_value()) return false;
      int parsed = 0;
      auto [end, ec] =
          std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc() || end != value.data() + value.size() ||
          parsed < 1 || parsed > 65536) {
        *error =
            "--web.max-connections must be a whole number from 1 to "
            "65536, got \"" +
            value + "\"";
        return false;
      }
      flags->max_connections = parsed;
    } else if (name == "--storage.path") {
      if (!take_value()) return false;
      if (value.empty()) {
        *error = "--storage.path must not be empty";
        return false;
      }
      flags->storage_path = value;
    } else if (name == "--log.level") {
      if (!take_value()) return false;
      flags->log_level = value;
    } else if (name == "--log.format") {
      if (!take_value()) return false;
      flags->log_format = value;
    } else if (name == "--version") {
      flags->version = true;
    } else if (name == "--help" || name == "-h") {
      flags->help = true;
    } else {
      *error = "unknown flag " + name + " (see --help)";
      return false;
    }
  }
  if (flags->listen_addresses.empty()) flags->listen_addresses = {":10075"};
  return true;
}

// Blocks SIGINT and SIGTERM in every thread so that main can wait for them.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
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
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &error)) {
    std::cerr << "aliyun_sas_exporter: " << error << "\n";
    return 2;
  }
  if (flags.help) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.version) {
    std::cout << "aliyun_sas_exporter, version " << sas::kVersion
              << " (revision: " << sas::kRevision << ")\n";
    return 0;
  }
  auto level = sas::log::ParseLevel(flags.log_level);
  auto format = sas::log::ParseFormat(flags.log_format);
  if (!level || !format) {
    std::cerr << "aliyun_sas_exporter: "
              << (!level ? "--log.level must be debug, info, warn or error, "
                           "got \"" +
                               flags.log_level + "\""
                         : "--log.format must be logfmt or json, got \"" +
                               flags.log_format + "\"")
              << "\n";
    return 2;
  }
  sas::log::Configure(*level, *format);

  sas::config::LoadResult loaded = sas::config::LoadConfigFile(
      flags.config_file, sas::ProcessEnvironment(), sas::LocalFileSystem());
  for (const auto& diagnostic : loaded.diagnostics) {
    std::cerr << diagnostic.ToString() << "\n";
  }
  if (!loaded.ok()) {
    std::cerr << "aliyun_sas_exporter: " << flags.config_file
              << ": configuration refused\n";
    return 1;
  }
  sigset_t stop_signals = BlockStopSignals();
  sas::app::AppOptions options;
  options.web.listen_addresses = flags.listen_addresses;
  options.web.telemetry_path = flags.telemetry_path;
  options.web.server.max_connections = flags.max_connections;
  options.enable_task_api = flags.enable_task_api;
  options.storage_path = flags.storage_path;
  options.load_state = !flags.config_check && !flags.check_accounts;
  // Building the app reads the files credentials come from (CLI profiles,
  // credentials files) without touching the network, so --config.check
  // catches their problems too.
  std::unique_ptr<sas::app::ExporterApp> app =
      sas::app::ExporterApp::Create(*loaded.config, options, &error);
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
  for (const std::string& address : app->listen_addresses()) {
    sas::log::Info("Listening", {{"address", address},
                                 {"telemetry_path", flags.telemetry_path}});
  }
  sas::log::Info("Started",
                 {{"version", sas::kVersion}, {"config", flags.config_file}});

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  sas::log::Info("Stopping",
                 {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  app->Stop();
  sas::log::Info("Stopped");
  return 0;
}
