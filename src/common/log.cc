#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/json_log.h"
#include "common/log_ids.h"

namespace roomcast {
namespace {

// `%*` in the text pattern: the ids the line is about (common/log_ids.h), if any.
class LogIdsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    auto* ids = current_log_ids();
    if (!ids) return;
    std::string text;
    append_log_ids_text(text, *ids);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LogIdsFlag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> text_log_formatter() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<LogIdsFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v%*");
  return formatter;
}

void init_logging(const std::string& level, const std::string& format, const std::string& role,
                  const std::string& node) {
  auto logger = spdlog::stdout_color_mt("roomcast");
  spdlog::set_default_logger(logger);
  if (format == "json")
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>(role, node));
  else
    spdlog::set_formatter(text_log_formatter());
  auto threshold = spdlog::level::from_str(level);
  spdlog::set_level(threshold);
  // At debug every line is written at once (a debug run is for following messages live).
  spdlog::flush_on(std::min(threshold, spdlog::level::info));
}

}  // namespace roomcast
