#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "web/server.h"

namespace sas::app {

// The exporter, wired from a validated configuration: per-account clients
// and rate limits, the task store, the poller, the metrics and the web
// server. Start/Stop from one thread.
class ExporterApp {
 public:
  // Keeps nothing of `config` beyond the constructor.
  ExporterApp(const config::Config& config, web::WebOptions web_options);
  ~ExporterApp();

  // Starts serving and polling; false with *error when a listener fails.
  bool Start(std::string* error);
  // Stops promptly: cancels requests in flight and joins every thread.
  void Stop();

  const std::vector<std::string>& listen_addresses() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sas::app
