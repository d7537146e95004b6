#pragma once

// The simulator's scenario: which export tasks exist and how each behaves
// over time. Loaded from TOML (see docs/simulator.md for the format).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/duration.h"
#include "util/file_system.h"

namespace sas::simulator {

// One export task. Every field documents its TOML key and default.
struct ExportSpec {
  int64_t id = 0;               // `id`: the ExportId; required, > 0, unique
  std::string file_name;        // `file_name`: default "export_<id>"
  int64_t total_count = 1000;   // `total_count`: >= 0
  Millis init_duration{0};      // `init_duration`: time in "init"
  Millis duration{60'000};      // `duration`: init end to 100%
  std::optional<int> stuck_at;  // `stuck_at`: 0..100, progress stops here
  bool stuck_in_init = false;   // `stuck_in_init`: "init" forever
  // `final_status`: reported instead of "success" when the curve ends
  // (at 100%, or at stuck_at when both are set).
  std::optional<std::string> final_status;
  std::string error_code;      // `error_code`: empty means no error
  int error_status = 500;      // `error_status`: HTTP status, 400..599
  std::string error_message;   // `error_message`: default error_code
  double error_rate = 1.0;     // `error_rate`: 0..1
  double throttle_rate = 0.0;  // `throttle_rate`: 0..1
  Millis retry_after{1000};    // `retry_after`: x-acs-retry-after
  Millis latency{0};           // `latency`: added before every answer
  std::optional<int64_t> rd_account_id;  // `rd_account_id`: > 0
  double non_json_rate = 0.0;            // `non_json_rate`: 0..1
};

struct Scenario {
  // `[simulator] seed`: seeds the random source; nullopt = from the time.
  std::optional<uint64_t> seed;
  std::vector<ExportSpec> exports;

  // The export with this id, or nullptr. The pointer lives as long as the
  // scenario is not modified.
  const ExportSpec* Find(int64_t id) const;
};

// Parses a scenario. On failure returns nullopt and sets *error to
// "<source_name>:<line>:<column>: <what is wrong>[; did you mean "<key>"?]".
std::optional<Scenario> ParseScenario(std::string_view toml_text,
                                      std::string_view source_name,
                                      std::string* error);

// Reads and parses a scenario file; errors as ParseScenario (a read failure
// names the path and the reason).
std::optional<Scenario> LoadScenarioFile(const FileSystem& files,
                                         const std::string& path,
                                         std::string* error);

// What DescribeExportInfo reports for an export at one moment.
struct ExportState {
  std::string status;         // "init", "exporting", "success" or final_status
  int progress = 0;           // percent, 0..100
  int64_t current_count = 0;  // total_count * progress / 100
};

// The state of `spec` after `elapsed` time since the simulator started.
// Pure: "init" while elapsed < init_duration (or forever with stuck_in_init);
// then progress = floor(100 * (elapsed - init_duration) / duration), capped
// at stuck_at ("exporting" forever, unless final_status is set) and at 100
// (final_status, default "success").
ExportState StateAt(const ExportSpec& spec, Millis elapsed);

}  // namespace sas::simulator
