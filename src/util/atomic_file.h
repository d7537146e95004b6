#pragma once

#include <string>

#include "util/file_system.h"

namespace sas {

// Replaces `path` with `content` so that a crash leaves either the old or
// the new file, never a mix: a temporary file in the same directory,
// written and flushed, renamed over `path`, then the directory flushed.
// False with *error (naming the path and the reason) on failure; the old
// file is then untouched.
bool WriteFileAtomically(FileSystem& fs, const std::string& path,
                         const std::string& content, std::string* error);

// Moves an unusable file out of the way as "<path>.broken-<unix seconds>"
// and returns the new name ("" with *error on failure). Nothing is deleted.
std::string SetAside(FileSystem& fs, const std::string& path,
                     std::string* error);

}  // namespace sas
