// `--log-format json`: one JSON object per line, for log shippers. Fields: time (UTC, ms),
// level, role, node, thread, message, then the ids the line is about when the call site gave
// them (user, room, msg, trace: common/log_ids.h).
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace roomcast {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  JsonLogFormatter(std::string role, std::string node)
      : role_(std::move(role)), node_(std::move(node)) {}
  // Called by spdlog under its sink's lock, from the logging thread.
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>(role_, node_);
  }

 private:
  std::string role_;
  std::string node_;
};

// Appends `s` as a JSON string: control characters escaped, bytes that are not UTF-8 replaced
// by U+FFFD (log lines quote library errors and peer input as they come).
void append_json_text(std::string& out, std::string_view s);

}  // namespace roomcast
