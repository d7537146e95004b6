#include "support/wait.h"

#include <cstdlib>
#include <thread>

namespace sas::testing {

double TimeScale() {
  static const double scale = [] {
    const char* text = std::getenv("SAS_TEST_TIME_SCALE");
    if (text == nullptr) return 1.0;
    char* end = nullptr;
    double value = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(value >= 1 && value <= 100)) {
      return 1.0;
    }
    return value;
  }();
  return scale;
}

Seconds Scaled(Seconds timeout) { return timeout * TimeScale(); }

bool WaitUntil(const std::function<bool()>& condition, Seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

}  // namespace sas::testing
