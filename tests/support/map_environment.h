#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "util/environment.h"

namespace sas::testing {

// A fixed set of variables. Thread-compatible: Set() before sharing.
class MapEnvironment : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string> vars)
      : vars_(std::move(vars)) {}
  std::optional<std::string> Get(const std::string& name) const override {
    auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }
  void Set(const std::string& name, const std::string& value) {
    vars_[name] = value;
  }

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace sas::testing
