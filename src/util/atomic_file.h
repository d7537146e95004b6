#pragma once

#include <string>

namespace sas {

// Replaces `path` with `content` so that a crash leaves either the old or
// the new file, never a mix: a temporary file in the same directory,
// written and fsync'ed, renamed over `path`, then the directory fsync'ed.
// False with *error (naming the path and the reason) on failure; the old
// file is then untouched.
bool WriteFileAtomically(const std::string& path, const std::string& content,
                         std::string* error);

// Moves an unusable file out of the way as "<path>.broken-<unix seconds>"
// and returns the new name ("" with *error on failure). Nothing is deleted.
std::string SetAside(const std::string& path, std::string* error);

}  // namespace sas
