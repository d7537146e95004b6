#pragma once

#include <chrono>
#include <functional>

namespace sas::testing {

using Seconds = std::chrono::duration<double>;

// How many times longer than written the waits of the test support may
// last: SAS_TEST_TIME_SCALE, a number from 1 (the default, also for a value
// that is not such a number) to 100. The sanitizer builds run several times
// slower (`make test-asan`, `make test-tsan` set it); a deadline scaled
// this way keeps its assertion instead of being loosened by hand.
double TimeScale();
// `timeout` times TimeScale().
Seconds Scaled(Seconds timeout);

// Calls `condition` every 50 ms until it returns true (true) or `timeout`
// (Scaled) passes (then one last call decides). The way tests wait for another
// thread or process: never a bare sleep.
bool WaitUntil(const std::function<bool()>& condition,
               Seconds timeout = Seconds(20));

}  // namespace sas::testing
