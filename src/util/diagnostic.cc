#include "util/diagnostic.h"

namespace sas {

std::string Diagnostic::ToString() const {
  std::string out = position.file;
  if (position.line > 0) {
    out += ":" + std::to_string(position.line) + ":" +
           std::to_string(position.column);
  }
  out += ": ";
  if (severity == Severity::kWarning) out += "warning: ";
  out += message;
  return out;
}

}  // namespace sas
