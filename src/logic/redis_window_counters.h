// WindowCounters in Redis: one key per counter (INCR, and PEXPIRE when it opens the window),
// so every Logic of a deployment counts together. A Redis failure counts nothing and lets the
// event through: a limit must not take the service down with the cache.
#pragma once

#include <string>

#include "logic/window_counters.h"
#include "store/redis_client.h"
#include "store/redis_keys.h"

namespace roomcast {

class RedisWindowCounters final : public WindowCounters {
 public:
  explicit RedisWindowCounters(RedisClient& redis,
                               std::string prefix = std::string(redis_keys::kPrefix))
      : redis_(redis), prefix_(std::move(prefix)) {}

  Count add(const std::string& key, int64_t window_ms) override;

 private:
  RedisClient& redis_;
  std::string prefix_;
};

}  // namespace roomcast
