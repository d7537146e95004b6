#include "util/environment.h"

#include <cstdlib>

namespace sas {
namespace {

class RealEnvironment : public Environment {
 public:
  std::optional<std::string> Get(const std::string& name) const override {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }
};

}  // namespace

const Environment& ProcessEnvironment() {
  static RealEnvironment environment;
  return environment;
}

}  // namespace sas
