#pragma once

namespace sas {

// Gives the free pages of every malloc arena back to the system (glibc's
// malloc_trim). A page render or a state save frees megabytes of small
// blocks among blocks that stay; without this the process keeps those
// pages resident until the same sizes are asked for again. Costs a walk
// over the free lists: call after such work, not per request.
void ReleaseFreeMemory();

}  // namespace sas
