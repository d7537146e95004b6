#include "util/memory.h"

#include <malloc.h>

namespace sas {

void ReleaseFreeMemory() { malloc_trim(0); }

}  // namespace sas
