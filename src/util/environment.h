#pragma once

#include <map>
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

// A fixed set of variables, for tests.
class MapEnvironment : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string> vars)
      : vars_(std::move(vars)) {}
  std::optional<std::string> Get(const std::string& name) const override;
  void Set(const std::string& name, const std::string& value) {
    vars_[name] = value;
  }

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace sas
