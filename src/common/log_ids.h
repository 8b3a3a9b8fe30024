// Ids attached to a log line as fields, so that log shippers (and grep) can select the lines of
// one user, room, message or trace: `--log-format json` lines get "user", "room", "msg" (the
// protocol's message id, "<seq>-0") and "trace"; text lines end with `user=… room=… msg=…
// trace=…`. Only the ids that are set appear; a room id is cut at 64 bytes.
//
//   log_ids(spdlog::level::debug, LogIds().user(u.id).room(room_id).trace(trace),
//           "comet: clientMessages with {} messages", n);
//
// A disabled level costs one comparison: nothing is formatted or allocated.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/trace_id.h"

namespace roomcast {

struct LogIds {
  int64_t user_id = 0;       // 0: none
  std::string_view room_id;  // empty: none
  uint64_t seq = 0;          // the message "<seq>-0" of `room_id`; 0: none
  TraceId trace_id;          // zero: none

  LogIds& user(int64_t id) { return user_id = id, *this; }
  LogIds& room(std::string_view id) { return room_id = id, *this; }
  LogIds& msg(uint64_t message_seq) { return seq = message_seq, *this; }
  LogIds& trace(TraceId id) { return trace_id = id, *this; }
};

namespace log_detail {
// The ids of the line being logged on this thread. spdlog's loggers here are synchronous, so the
// formatter runs on the logging thread, inside log_ids().
inline thread_local const LogIds* current = nullptr;

class Scope {
 public:
  explicit Scope(const LogIds& ids) : previous_(current) { current = &ids; }
  ~Scope() { current = previous_; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const LogIds* previous_;
};
}  // namespace log_detail

// The ids of the line being formatted on this thread, or nullptr. For formatters.
inline const LogIds* current_log_ids() {
  return log_detail::current;
}

// Logs through the default logger with `ids` attached. Any thread.
template <typename... Args>
void log_ids(spdlog::level::level_enum level, const LogIds& ids,
             spdlog::format_string_t<Args...> fmt, Args&&... args) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  log_detail::Scope scope(ids);
  logger->log(level, fmt, std::forward<Args>(args)...);
}

// `,"user":1,"room":"…","msg":"3-0","trace":"…"` (the ids that are set).
void append_log_ids_json(std::string& out, const LogIds& ids);
// ` user=1 room=… msg=3-0 trace=…` (the ids that are set).
void append_log_ids_text(std::string& out, const LogIds& ids);

}  // namespace roomcast
