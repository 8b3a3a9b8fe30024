// Process-wide logging setup (spdlog); every layer logs through spdlog's default logger.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace roomcast {

// The human-readable line: time, level, thread, message, then the ids the line is about.
std::unique_ptr<spdlog::formatter> text_log_formatter();

// `format`: "text" (human-readable lines) or "json" (one object per line naming role and node).
void init_logging(const std::string& level, const std::string& format = "text",
                  const std::string& role = "", const std::string& node = "");

}  // namespace roomcast
