#include "util/diagnostic.h"

namespace sas {

std::string Diagnostic::ToString() const {
  // Appended piece by piece: GCC 12 at -O2 and above warns falsely
  // (-Wrestrict, GCC bug 105329) on `"literal" + std::string&&`.
  std::string out = position.file;
  if (position.line > 0) {
    out += ':';
    out += std::to_string(position.line);
    out += ':';
    out += std::to_string(position.column);
  }
  out += ": ";
  if (severity == Severity::kWarning) out += "warning: ";
  out += message;
  return out;
}

}  // namespace sas
