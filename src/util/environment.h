#pragma once

#include <optional>
#include <string>

namespace sas {

// The environment-variable seam. Implementations are thread-safe.
class Environment {
 public:
  virtual ~Environment() = default;
  // The variable's value, or nullopt when it is unset.
  virtual std::optional<std::string> Get(const std::string& name) const = 0;
};

// The process environment (getenv).
const Environment& ProcessEnvironment();

}  // namespace sas
