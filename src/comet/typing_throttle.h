// At most one serverTyping per user and room per interval (docs/protocol.md: extra clientTyping
// events are dropped without an error). Thread-safe; entries older than the interval are pruned
// as the table grows, so it holds only the recently typing.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace roomcast {

class TypingThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TypingThrottle(std::chrono::milliseconds interval) : interval_(interval) {}

  // True when this user may announce typing in this room now (and records it). Any thread.
  bool allow(int64_t user_id, const std::string& room_id, Clock::time_point now = Clock::now());

 private:
  void prune(Clock::time_point now);

  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> last_;  // "user:room" -> last announced
  std::size_t prune_at_ = 1024;
};

}  // namespace roomcast
