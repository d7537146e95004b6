#include "support/wait.h"

#include <thread>

namespace sas::testing {

bool WaitUntil(const std::function<bool()>& condition, Seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

}  // namespace sas::testing
