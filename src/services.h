// Entry points of the distributed roles (src/services/*.cc).
#pragma once

#include "common/config.h"

namespace roomcast {
int run_comet(const Config& config);
int run_logic(const Config& config);
int run_job(const Config& config);
}  // namespace roomcast
