#include "store/redis_session_store.h"

#include <charconv>
#include <chrono>

namespace roomcast {

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// The value is "<user id>:<expires at ms>": Redis expires the key, and the stored deadline lets
// session_user honour the caller's clock exactly like the SQLite store does.
void RedisSessionStore::create_session(const std::string& sid, int64_t user_id,
                                       int64_t expires_at_ms) {
  int64_t ttl = expires_at_ms - wall_ms();
  if (ttl <= 0) return;  // already expired: nothing to keep
  auto value = std::to_string(user_id) + ":" + std::to_string(expires_at_ms);
  redis_.command({"SET", redis_keys::session(sid, prefix_), value, "PX", std::to_string(ttl)});
}

std::optional<int64_t> RedisSessionStore::session_user(const std::string& sid, int64_t now_ms) {
  auto value = redis_.command({"GET", redis_keys::session(sid, prefix_)}).string();
  if (!value) return std::nullopt;
  auto colon = value->find(':');
  int64_t user = 0, expires = 0;
  const char* b = value->data();
  if (colon == std::string::npos || std::from_chars(b, b + colon, user).ec != std::errc() ||
      std::from_chars(b + colon + 1, b + value->size(), expires).ec != std::errc())
    return std::nullopt;  // not written by us: treat as no session
  if (expires <= now_ms) return std::nullopt;
  return user;
}

void RedisSessionStore::revoke_session(const std::string& sid) {
  redis_.command({"DEL", redis_keys::session(sid, prefix_)});
}

}  // namespace roomcast
