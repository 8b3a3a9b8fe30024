// Failed logins per account counted in Redis, so every Logic of a cluster sees the same count:
// one key per email that expires a window after the first failure. Redis being unreachable
// fails open (the attempt goes ahead): the per-address limits still apply.
#pragma once

#include "logic/failed_logins.h"
#include "store/redis_client.h"

namespace roomcast {

class RedisFailedLogins final : public FailedLogins {
 public:
  RedisFailedLogins(RedisClient& redis, int limit, std::chrono::milliseconds window)
      : redis_(redis), limit_(limit), window_(window) {}
  std::optional<std::chrono::milliseconds> blocked(const std::string& key) override;
  void record_failure(const std::string& key) override;

 private:
  std::string redis_key(const std::string& key) const;

  RedisClient& redis_;
  int limit_;
  std::chrono::milliseconds window_;
};

}  // namespace roomcast
