// aliyun_sas_simulator: a local stand-in for the Security Center API, STS
// and the ECS instance metadata service.
// Flags, wiring and signals only; see docs/simulator.md.

#include <pthread.h>
#include <signal.h>

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

constexpr std::string_view kUsage =
    R"(Usage: aliyun_sas_simulator [flags]

A local stand-in for Alibaba Cloud Security Center's DescribeExportInfo API,
and, on the same port, for STS (AssumeRole, AssumeRoleWithOIDC) and the ECS
instance metadata service (/latest/...) as the scenario's [[role]] and
[metadata] sections describe.

  --listen HOST:PORT       address to serve on (default 127.0.0.1:0; port 0
                           picks a free port)
  --access-key ID:SECRET   an accepted key pair, split at the first ':'
                           (repeatable; at least one is required)
  --scenario FILE          TOML scenario (default: no export tasks)
  --tls-cert FILE          serve HTTPS with this PEM certificate (chain)
  --tls-key FILE           ... and this PEM private key
  --threads N              worker threads, at least 16 (default 64)
  --log-level LEVEL        debug|info|warn|error (default info; requests are
                           logged at debug)
  --help                   show this help

Once listening it prints one line to stdout:
  aliyun_sas_simulator listening on http://127.0.0.1:PORT
GET /_simulator/stats answers request statistics as JSON;
GET /_simulator/fail?service=sts|metadata&count=N makes the next N STS calls
(or metadata credential GETs) answer 503 ServiceUnavailable.
)";

struct Flags {
  sas::simulator::ServerOptions server;
  sas::simulator::KeyPairs keys;
  std::string scenario_file;
  sas::log::Level log_level = sas::log::Level::kInfo;
};

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "aliyun_sas_simulator: " << message << "\n"
            << "Run aliyun_sas_simulator --help for usage.\n";
  std::exit(2);
}

bool ParsePort(std::string_view text, int* port) {
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *port);
  return !text.empty() && ec == std::errc() &&
         end == text.data() + text.size() && *port >= 0 && *port <= 65535;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (size_t equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name.resize(equals);
      has_value = true;
    }
    if (name == "--help" || name == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    auto take_value = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= args.size()) Die(name + " needs a value");
      return args[++i];
    };
    if (name == "--listen") {
      std::string listen = take_value();
      size_t colon = listen.rfind(':');
      std::string host = listen.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      if (colon == std::string::npos || host.empty() ||
          !ParsePort(std::string_view(listen).substr(colon + 1),
                     &flags.server.port)) {
        Die("--listen wants HOST:PORT (e.g. 127.0.0.1:0), not \"" + listen +
            "\"");
      }
      flags.server.host = host;
    } else if (name == "--access-key") {
      std::string pair = take_value();
      size_t colon = pair.find(':');
      if (colon == std::string::npos || colon == 0 ||
          colon + 1 == pair.size()) {
        Die("--access-key wants ID:SECRET");
      }
      flags.keys[pair.substr(0, colon)] = pair.substr(colon + 1);
    } else if (name == "--scenario") {
      flags.scenario_file = take_value();
    } else if (name == "--tls-cert") {
      flags.server.tls_cert_file = take_value();
    } else if (name == "--tls-key") {
      flags.server.tls_key_file = take_value();
    } else if (name == "--threads") {
      std::string text = take_value();
      if (!ParsePort(text, &flags.server.threads) ||
          flags.server.threads < 16 || flags.server.threads > 4096) {
        Die("--threads wants a number from 16 to 4096, not \"" + text + "\"");
      }
    } else if (name == "--log-level") {
      std::string text = take_value();
      std::optional<sas::log::Level> level = sas::log::ParseLevel(text);
      if (!level) Die("--log-level wants debug, info, warn or error");
      flags.log_level = *level;
    } else {
      Die("unknown flag \"" + args[i] + "\"");
    }
  }
  if (flags.keys.empty()) Die("at least one --access-key ID:SECRET is needed");
  if (flags.server.tls_cert_file.empty() != flags.server.tls_key_file.empty()) {
    Die("--tls-cert and --tls-key must be given together");
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  sas::log::Configure(flags.log_level, sas::log::Format::kLogfmt);

  sas::simulator::Scenario scenario;
  if (!flags.scenario_file.empty()) {
    std::string error;
    std::optional<sas::simulator::Scenario> loaded =
        sas::simulator::LoadScenarioFile(sas::LocalFileSystem(),
                                         flags.scenario_file, &error);
    if (!loaded) Die(error);
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
  if (!server.Start(&error)) Die(error);
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
