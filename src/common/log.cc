#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/json_log.h"

namespace roomcast {

void init_logging(const std::string& level, const std::string& format, const std::string& role,
                  const std::string& node) {
  auto logger = spdlog::stdout_color_mt("roomcast");
  spdlog::set_default_logger(logger);
  if (format == "json")
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>(role, node));
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace roomcast
