// simulator::ParseScenario (--scenario.file). Input: the TOML text.

#include <string>

#include "fuzz_support.h"
#include "simulator/scenario.h"

SAS_FUZZ_TARGET(simulator_scenario) {
  std::string_view text = sas::fuzz::AsText(data, size);
  std::string error;
  std::optional<sas::simulator::Scenario> scenario =
      sas::simulator::ParseScenario(text, "scenario.toml", &error);
  if (!scenario) {
    SAS_FUZZ_CHECK(error.starts_with("scenario.toml:"),
                   "an error that does not name the file");
    return;
  }
  for (const sas::simulator::ExportSpec& spec : scenario->exports) {
    SAS_FUZZ_CHECK(scenario->Find(spec.id, spec.action) != nullptr,
                   "an export that Find() does not find");
    // An export's state is defined at every moment.
    for (auto elapsed : {sas::Millis(0), sas::Millis(1), sas::Millis(60'000),
                         sas::Millis::max()}) {
      sas::simulator::ExportState state =
          sas::simulator::StateAt(spec, elapsed);
      SAS_FUZZ_CHECK(state.progress >= 0 && state.progress <= 100,
                     "progress outside 0..100");
      SAS_FUZZ_CHECK(state.current_count >= 0, "a negative current count");
    }
  }
}
