#include "logic/redis_window_counters.h"

#include <spdlog/spdlog.h>

namespace roomcast {

namespace {
// Atomic: the first INCR of a window sets its expiry; returns {count, ms left}.
constexpr const char* kAddScript = R"(
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left})";
}  // namespace

WindowCounters::Count RedisWindowCounters::add(const std::string& key, int64_t window_ms) {
  try {
    // Not idempotent (INCR): sent once.
    auto reply = redis_.command_once(
        {"EVAL", kAddScript, "1", redis_keys::window(key, prefix_), std::to_string(window_ms)});
    if (reply.type == RedisReply::Type::kArray && reply.elements.size() == 2)
      return {reply.elements[0].integer, reply.elements[1].integer};
    spdlog::warn("redis counters: unexpected reply for {}", key);
  } catch (const std::exception& e) {
    spdlog::warn("redis counters: {} not counted: {}", key, e.what());
  }
  return {};
}

}  // namespace roomcast
