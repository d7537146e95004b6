#pragma once

#include <string>

namespace sas {

// Where a value was written, for messages: "file:line:column". line 0 means
// the file as a whole.
struct SourcePosition {
  std::string file;
  int line = 0;
  int column = 0;
};

// One problem found in a file a program reads (its configuration, a
// simulator scenario). Messages never contain a secret.
struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  SourcePosition position;
  std::string message;

  // "file:line:column: message" (warnings: "file:line:column: warning: ...";
  // line 0: "file: message").
  std::string ToString() const;
};

}  // namespace sas
