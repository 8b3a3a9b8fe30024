// Process-wide logging setup (spdlog); every layer logs through spdlog's default logger.
#pragma once
#include <string>

namespace roomcast {
// `format`: "text" (human-readable lines) or "json" (one object per line naming role and node).
void init_logging(const std::string& level, const std::string& format = "text",
                  const std::string& role = "", const std::string& node = "");
}  // namespace roomcast
