// CPU per poll, measured side by side in one run (this machine is shared
// and noisy, so only ratios of figures taken together mean anything):
//   exporter  the real exporter polling `tasks` exports on the real
//             simulator at `rate` polls/s (poll_interval = tasks / rate),
//             its process_cpu_seconds_total over the requests it counted;
//   floor     a bare keep-alive loopback socket doing exactly one write of
//             the exporter's request size and one read of the simulator's
//             answer size per poll, at the same spacing, against a server
//             thread that answers with as many bytes (getrusage of the
//             client thread);
//   node-sdk  Alibaba Cloud's official Node.js SDK (tests/bench/node_sdk)
//             polling the same simulator at the same rate, when its
//             node_modules is installed (`npm ci --prefix
//             tests/bench/node_sdk`).
// The request and answer sizes come from a relay the exporter is pointed
// through for a few seconds first.
//   poll_cpu_bench [tasks=1000] [seconds=20] [rates=200,1000]

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.h"

namespace {

using sas::testing::Exporter;
using sas::testing::FindSample;
using sas::testing::Process;
using sas::testing::Seconds;
using sas::testing::Simulator;
using sas::testing::WaitUntil;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "poll_cpu_bench: %s\n", why.c_str());
  std::exit(1);
}

double ThreadCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A TCP listener on 127.0.0.1 and an ephemeral port.
int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    Die("cannot listen on 127.0.0.1");
  }
  *port = ntohs(address.sin_port);
  return fd;
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    Die("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Forwards every connection it accepts to 127.0.0.1:upstream and counts the
// bytes each way. Runs until the process ends (a benchmark's lifetime).
class CountingRelay {
 public:
  explicit CountingRelay(int upstream) : upstream_(upstream) {
    listener_ = Listen(&port_);
    std::thread([this] { AcceptLoop(); }).detach();
  }
  int port() const { return port_; }
  int64_t bytes_up() const { return up_; }
  int64_t bytes_down() const { return down_; }

 private:
  void AcceptLoop() {
    for (;;) {
      int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      std::thread([this, client] {
        Pump(client, Connect(upstream_));
      }).detach();
    }
  }
  void Pump(int client, int server) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    char buffer[65536];
    for (;;) {
      if (poll(fds, 2, -1) < 0) break;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
        if (n <= 0) {
          close(client);
          close(server);
          return;
        }
        if (write(fds[1 - i].fd, buffer, n) != n) Die("relay write failed");
        (i == 0 ? up_ : down_) += n;
      }
    }
  }

  int upstream_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int64_t> up_{0};
  std::atomic<int64_t> down_{0};
};

std::string Scenario(int tasks) {
  std::string scenario;
  for (int id = 1; id <= tasks; ++id) {
    scenario += "[[export]]\nid = " + std::to_string(id) +
                "\nduration = \"10h\"\ntotal_count = 100000\n";
  }
  return scenario;
}

std::unique_ptr<Exporter> StartExporter(int tasks, int port,
                                        double poll_interval_s) {
  std::string config =
      "[exporter]\npoll_interval = \"" +
      std::to_string(static_cast<int>(poll_interval_s * 1000)) +
      "ms\"\nconcurrency = 4\n\n[[account]]\nname = \"bench\"\n"
      "endpoint = \"http://127.0.0.1:" +
      std::to_string(port) +
      "\"\nmax_requests_per_second = 5000\n"
      "[account.credentials]\naccess_key_id = \"AKID\"\n"
      "access_key_secret = \"SECRET\"\n\n";
  for (int id = 1; id <= tasks; ++id) {
    config +=
        "[[task]]\naccount = \"bench\"\nexport_id = " + std::to_string(id) +
        "\n";
  }
  auto exporter = std::make_unique<Exporter>(
      config, std::vector<std::string>{},
      std::vector<std::string>{"--log.level", "info"});
  if (!WaitUntil([&] { return exporter->Get("/-/ready").first == 200; },
                 Seconds(600))) {
    Die("the exporter never became ready");
  }
  return exporter;
}

double Requests(const Exporter& exporter) {
  return FindSample(exporter.Metrics(),
                    "aliyun_sas_api_requests_total{account=\"bench\"")
      .value_or(-1);
}

struct ExporterFigure {
  double micros_per_poll = 0;
  double polls_per_second = 0;
};

ExporterFigure MeasureExporter(const Exporter& exporter, int seconds) {
  std::string before = exporter.Metrics();
  auto started = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  std::string after = exporter.Metrics();
  double elapsed =
      std::chrono::duration<double>(Clock::now() - started).count();
  auto sample = [](const std::string& page, const std::string& prefix) {
    return FindSample(page, prefix).value_or(-1);
  };
  double cpu = sample(after, "process_cpu_seconds_total") -
               sample(before, "process_cpu_seconds_total");
  std::string requests = "aliyun_sas_api_requests_total{account=\"bench\"";
  double polls = sample(after, requests) - sample(before, requests);
  if (polls <= 0) Die("the exporter made no request in the window");
  return {cpu / polls * 1e6, polls / elapsed};
}

// One write of request_bytes and one read of answer_bytes per poll over
// one keep-alive loopback connection, `polls` times at `spacing`, against
// a server thread answering each request with answer_bytes. The client
// thread's CPU per poll, in microseconds.
double MeasureFloor(size_t request_bytes, size_t answer_bytes, int polls,
                    std::chrono::nanoseconds spacing) {
  int port = 0;
  int listener = Listen(&port);
  std::thread server([&] {
    int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::string request(request_bytes, 'q'), answer(answer_bytes, 'a');
    for (int i = 0; i < polls; ++i) {
      for (size_t got = 0; got < request_bytes;) {
        ssize_t n = read(fd, request.data(), request_bytes - got);
        if (n <= 0) Die("floor server read failed");
        got += n;
      }
      if (write(fd, answer.data(), answer.size()) !=
          static_cast<ssize_t>(answer.size())) {
        Die("floor server write failed");
      }
    }
    close(fd);
  });
  int fd = Connect(port);
  std::string request(request_bytes, 'r'), answer(answer_bytes, 0);
  double before = ThreadCpuSeconds();
  auto next = Clock::now();
  for (int i = 0; i < polls; ++i) {
    if (write(fd, request.data(), request.size()) !=
        static_cast<ssize_t>(request.size())) {
      Die("floor client write failed");
    }
    // One read when the answer arrives whole, as it does on loopback.
    for (size_t got = 0; got < answer_bytes;) {
      ssize_t n = read(fd, answer.data(), answer_bytes - got);
      if (n <= 0) Die("floor client read failed");
      got += n;
    }
    next += spacing;
    std::this_thread::sleep_until(next);
  }
  double micros = (ThreadCpuSeconds() - before) / polls * 1e6;
  server.join();
  close(fd);
  close(listener);
  return micros;
}

// The Node.js SDK's CPU per request, or a negative value when its
// node_modules is not installed.
double MeasureNodeSdk(int simulator_port, double rate, int seconds) {
  std::string dir = std::string(SAS_SOURCE_DIR) + "/tests/bench/node_sdk";
  if (!std::filesystem::exists(dir +
                               "/node_modules/@alicloud/openapi-client")) {
    return -1;
  }
  Process node({"/usr/bin/node", dir + "/poll.js",
                "http://127.0.0.1:" + std::to_string(simulator_port), "AKID",
                "SECRET", "1", std::to_string(rate), std::to_string(seconds)});
  if (node.Wait(Seconds(seconds + 60)) != 0) Die("node: " + node.output());
  std::string line = node.stdout_text();
  size_t at = line.find("requests, ");
  if (at == std::string::npos) Die("node printed: " + line);
  return std::stod(line.substr(at + 10));
}

std::vector<double> ParseRates(const std::string& text) {
  std::vector<double> rates;
  std::stringstream stream(text);
  for (std::string rate; std::getline(stream, rate, ',');) {
    rates.push_back(std::stod(rate));
  }
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  int tasks = argc > 1 ? std::atoi(argv[1]) : 1000;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<double> rates = ParseRates(argc > 3 ? argv[3] : "200,1000");

  Simulator simulator(Scenario(tasks));

  // Sizes: the exporter through the relay for a few seconds.
  CountingRelay relay(simulator.port());
  size_t request_bytes = 0, answer_bytes = 0;
  {
    auto exporter = StartExporter(tasks, relay.port(), tasks / rates.front());
    double first = Requests(*exporter);
    int64_t up = relay.bytes_up(), down = relay.bytes_down();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    double polls = Requests(*exporter) - first;
    if (polls <= 0) Die("no request through the relay");
    request_bytes = static_cast<size_t>((relay.bytes_up() - up) / polls);
    answer_bytes = static_cast<size_t>((relay.bytes_down() - down) / polls);
  }
  std::printf("sizes: request %zu bytes, answer %zu bytes (per poll)\n",
              request_bytes, answer_bytes);
  std::printf("%10s %14s %14s %14s %10s %10s\n", "polls/s", "exporter us",
              "floor us", "node-sdk us", "/ floor", "node / us");
  for (double rate : rates) {
    ExporterFigure exporter;
    {
      auto process = StartExporter(tasks, simulator.port(), tasks / rate);
      exporter = MeasureExporter(*process, seconds);
    }
    auto spacing = std::chrono::nanoseconds(
        static_cast<int64_t>(1e9 / exporter.polls_per_second));
    double floor = MeasureFloor(
        request_bytes, answer_bytes,
        static_cast<int>(exporter.polls_per_second * seconds), spacing);
    double node = MeasureNodeSdk(simulator.port(), rate, seconds);
    char node_text[32] = "-", ratio_text[32] = "-";
    if (node >= 0) {
      std::snprintf(node_text, sizeof(node_text), "%.1f", node);
      std::snprintf(ratio_text, sizeof(ratio_text), "%.2f",
                    node / exporter.micros_per_poll);
    }
    std::printf("%10.0f %14.1f %14.1f %14s %10.2f %10s\n",
                exporter.polls_per_second, exporter.micros_per_poll, floor,
                node_text, exporter.micros_per_poll / floor, ratio_text);
  }
  return 0;
}
