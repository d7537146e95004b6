// aliyun_sas_simulator: a local stand-in for the Security Center API, STS
// and the ECS instance metadata service.
// Flags, wiring and signals only; see docs/simulator.md.

#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "simulator/server.h"
#include "simulator/service.h"
#include "util/file_system.h"
#include "util/log.h"

namespace {

constexpr const char* kDescription =
    "A local stand-in for Alibaba Cloud Security Center's DescribeExportInfo "
    "API, and, on the same port, for STS (AssumeRole, AssumeRoleWithOIDC) and "
    "the ECS instance metadata service (/latest/...) as the scenario's "
    "[[role]] and [metadata] sections describe.";

constexpr const char* kFooter = R"(Once listening it prints one line to stdout:
  aliyun_sas_simulator listening on http://127.0.0.1:PORT
GET /_simulator/stats answers request statistics as JSON;
GET /_simulator/fail?service=sts|metadata&count=N makes the next N STS calls
(or metadata credential GETs) answer 503 ServiceUnavailable;
POST /_simulator/faults?kind=K&... adds a fault (latency, reset, truncate,
error, throttle, clock_skew, stall, sts_unavailable, metadata_unavailable),
DELETE clears them, GET lists them (see docs/simulator.md).
Exit status: 0 stopped by a signal, 1 cannot start, 2 bad flags.)";

struct Flags {
  sas::simulator::ServerOptions server;
  sas::simulator::KeyPairs keys;
  std::string scenario_file;
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

[[noreturn]] void Die(const std::string& message, int status) {
  std::cerr << "aliyun_sas_simulator: " << message << " (see --help)\n";
  std::exit(status);
}

bool ParsePort(std::string_view text, int* port) {
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *port);
  return !text.empty() && ec == std::errc() &&
         end == text.data() + text.size() && *port >= 0 && *port <= 65535;
}

// The host and port of "HOST:PORT" or "[V6]:PORT"; "" when malformed.
std::string ParseListen(const std::string& listen, Flags* flags) {
  size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (colon == std::string::npos || host.empty() ||
      !ParsePort(std::string_view(listen).substr(colon + 1),
                 &flags->server.port)) {
    return "wants HOST:PORT (e.g. 127.0.0.1:0), not \"" + listen + "\"";
  }
  flags->server.host = host;
  return "";
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> access_keys;
  CLI::App app(kDescription, "aliyun_sas_simulator");
  app.footer(kFooter);
  // A flag given twice takes its last value, as a wrapper script that
  // appends to a default command line expects; repeatable flags keep all.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--web.listen-address", listen,
                 "Address to serve on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--access-key", access_keys,
                 "An accepted key pair ID:SECRET, split at the first ':'; "
                 "repeatable, at least one")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(
          [](const std::string& pair) -> std::string {
            size_t colon = pair.find(':');
            if (colon == std::string::npos || colon == 0 ||
                colon + 1 == pair.size()) {
              return "wants ID:SECRET";
            }
            return "";
          },
          "ID:SECRET");
  app.add_option("--scenario.file", flags.scenario_file,
                 "TOML scenario (default: no export tasks)");
  auto* cert = app.add_option("--web.tls-cert-file", flags.server.tls_cert_file,
                              "Serve HTTPS with this PEM certificate (chain)");
  auto* key = app.add_option("--web.tls-key-file", flags.server.tls_key_file,
                             "... and this PEM private key");
  cert->needs(key);
  key->needs(cert);
  app.add_option("--web.threads", flags.server.threads, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(16, 4096));
  app.add_option("--log.level", flags.log_level,
                 "Minimum level to log; requests are logged at debug")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log.format", flags.log_format, "Log line format")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  app.allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::exit(app.exit(e));  // --help
  } catch (const CLI::ParseError& e) {
    Die(e.what(), 2);
  }
  if (!app.remaining().empty()) {
    Die("unknown flag " + app.remaining().front(), 2);
  }
  if (std::string why = ParseListen(listen, &flags); !why.empty()) {
    Die("--web.listen-address " + why, 2);
  }
  for (const std::string& pair : access_keys) {
    size_t colon = pair.find(':');
    flags.keys[pair.substr(0, colon)] = pair.substr(colon + 1);
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  sas::log::Configure(*sas::log::ParseLevel(flags.log_level),
                      *sas::log::ParseFormat(flags.log_format));

  sas::simulator::Scenario scenario;
  if (!flags.scenario_file.empty()) {
    std::string error;
    std::optional<sas::simulator::Scenario> loaded =
        sas::simulator::LoadScenarioFile(sas::LocalFileSystem(),
                                         flags.scenario_file, &error);
    if (!loaded) Die(error, 1);
    scenario = std::move(*loaded);
  }
  uint64_t seed = scenario.seed ? *scenario.seed : std::random_device{}();
  size_t export_count = scenario.exports.size();
  size_t role_count = scenario.roles.size();
  bool metadata = scenario.metadata.has_value();

  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  sas::simulator::Service service(
      std::move(scenario), flags.keys, sas::RealClock(),
      std::make_unique<sas::simulator::SeededRandom>(seed));
  sas::simulator::Server server(service, flags.server);
  std::string error;
  if (!server.Start(&error)) Die(error, 1);
  std::cout << "aliyun_sas_simulator listening on " << server.Url()
            << std::endl;
  sas::log::Info("Simulator started",
                 {{"url", server.Url()},
                  {"exports", std::to_string(export_count)},
                  {"roles", std::to_string(role_count)},
                  {"metadata", metadata ? "on" : "off"},
                  {"access_keys", std::to_string(flags.keys.size())},
                  {"seed", std::to_string(seed)}});

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  sas::log::Info("Simulator stopping",
                 {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  server.Stop();
  return 0;
}
