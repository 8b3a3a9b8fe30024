// Sessions in Redis: one key per (already hashed) session id, expiring on its own with PX.
#pragma once

#include <string>

#include "store/redis_client.h"
#include "store/redis_keys.h"
#include "store/store.h"

namespace roomcast {

class RedisSessionStore final : public SessionStore {
 public:
  explicit RedisSessionStore(RedisClient& redis,
                             std::string prefix = std::string(redis_keys::kPrefix))
      : redis_(redis), prefix_(std::move(prefix)) {}

  void create_session(const std::string& sid, int64_t user_id, int64_t expires_at_ms) override;
  std::optional<int64_t> session_user(const std::string& sid, int64_t now_ms) override;
  void revoke_session(const std::string& sid) override;

 private:
  RedisClient& redis_;
  std::string prefix_;
};

}  // namespace roomcast
