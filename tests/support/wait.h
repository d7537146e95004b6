#pragma once

#include <chrono>
#include <functional>

namespace sas::testing {

using Seconds = std::chrono::duration<double>;

// Calls `condition` every 50 ms until it returns true (true) or `timeout`
// passes (then one last call decides). The way tests wait for another
// thread or process: never a bare sleep.
bool WaitUntil(const std::function<bool()>& condition,
               Seconds timeout = Seconds(20));

}  // namespace sas::testing
