// Process-wide logging setup (spdlog); every layer logs through spdlog's default logger.
#pragma once
#include <string>

namespace roomcast {
void init_logging(const std::string& level);
}
