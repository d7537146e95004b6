#include "simulator/api_types.h"

#include "util/strings.h"

namespace sas::simulator {

const std::string* ApiRequest::Header(std::string_view name) const {
  std::string lowercase = ToLower(name);
  for (const auto& [key, value] : headers) {
    if (key.size() == lowercase.size() && ToLower(key) == lowercase) {
      return &value;
    }
  }
  return nullptr;
}

std::string_view ApiRequest::Path() const {
  return std::string_view(target).substr(0, target.find('?'));
}

std::optional<std::string> ApiResponse::Header(
    std::string_view lowercase_name) const {
  for (const auto& [key, value] : headers) {
    if (key == lowercase_name) return value;
  }
  return std::nullopt;
}

}  // namespace sas::simulator
