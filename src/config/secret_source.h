#pragma once

#include <optional>
#include <string>

#include "util/environment.h"
#include "util/file_system.h"

namespace sas::config {

// Where the configuration says a secret is: written in the file itself
// (`key`), in an environment variable (`key_env`) or in a file (`key_file`).
enum class SecretOrigin { kLiteral, kEnvironment, kFile };

struct SecretLookup {
  // The secret; set on success.
  std::optional<std::string> value;
  // Why there is no value, e.g. "environment variable X is not set". Names
  // the variable or file, never the value or the file's content.
  std::string error;
};

// Resolves what the configuration wrote for a secret. kLiteral: `reference`
// is the value. kEnvironment: `reference` names a variable; unset or empty is
// an error. kFile: `reference` is a path read through files (at most 1 MiB),
// the content trimmed of surrounding whitespace; unreadable or empty is an
// error. Any value containing a control character (a line break inside a
// file, say) is an error too: it could not be sent in an HTTP header.
SecretLookup ResolveSecret(SecretOrigin origin, const std::string& reference,
                           const Environment& env, const FileSystem& files);

}  // namespace sas::config
