// ClusterConnections in Redis. Each user has a sorted set of its open connections
// ("<comet>|<conn>", scored by opening time); a comet that sees a user past the limit removes
// the oldest entries and queues each on its comet's eviction list, which that comet polls and
// closes with 4008. Entries of a comet that died stay until they are the oldest and are evicted
// (closing nothing), or until the set expires a day after its last change.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "comet/cluster_connections.h"
#include "common/periodic_task.h"
#include "store/redis_client.h"
#include "store/redis_keys.h"

namespace roomcast {

class RedisUserConnections final : public ClusterConnections {
 public:
  // `close_local(conn_id)` closes one of this comet's connections with 4008 (thread-safe).
  // `max` = 0: no limit.
  RedisUserConnections(RedisClient& redis, std::string comet_id, int max,
                       std::function<void(uint64_t)> close_local,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(250),
                       std::string prefix = std::string(redis_keys::kPrefix));
  ~RedisUserConnections() override;

  std::vector<uint64_t> opened(int64_t user_id, uint64_t conn_id) override;
  void closed(int64_t user_id, uint64_t conn_id) override;

  // Starts and stops polling this comet's eviction list.
  void start() { poller_.start(); }
  void stop() { poller_.stop(); }
  // One poll (the task's step; public for tests).
  void poll_evictions();

 private:
  std::string user_key(int64_t user_id) const;
  std::string evict_key(const std::string& comet) const;
  std::string member(uint64_t conn_id) const;

  RedisClient& redis_;
  std::string comet_id_;
  int max_;
  std::function<void(uint64_t)> close_local_;
  std::string prefix_;
  PeriodicTask poller_;
};

}  // namespace roomcast
