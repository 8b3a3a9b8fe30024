// `roomcast standalone`: Comet, Logic and Job in one process over the same seams as the
// distributed mode, with SQLite, the embedded queue and direct calls.
#pragma once

#include "common/config.h"

namespace roomcast {
int run_standalone(const Config& config);
}
