// Routing state in Redis: which comets hold a room's members and a user's connections, so Job
// pushes only to those comets. Each entry is a sorted-set member (the comet id) scored with its
// expiry time, so entries expire one by one: a comet that dies or stops refreshing drops out of
// every route by itself, while the others keep theirs.
//
// Keys: rc:route:room:<room id>, rc:route:user:<user id> = ZSET comet id -> expiry (ms)
//       rc:route:mark:<comet id> = a sentinel; when it is gone (FLUSHALL, Redis restarted
//       empty) the comet re-announces everything at once instead of waiting for the next round.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "comet/comet.h"
#include "common/periodic_task.h"
#include "discovery/route_epoch.h"
#include "discovery/route_lookup.h"
#include "store/redis_client.h"

namespace roomcast {

// The comet side: announces routes synchronously when a connection subscribes (the
// RouteListener contract), and reconciles all local rooms and users periodically.
class RouteRegistry final : public RouteListener {
 public:
  RouteRegistry(RedisClient& redis, std::string comet_id, const Comet& comet,
                int entry_ttl_ms = 30000);
  ~RouteRegistry() override;

  void rooms_subscribed(const std::vector<std::string>& room_ids) override;
  void user_connected(int64_t user_id) override;

  void start();
  // Stops reconciling and withdraws this comet's routes (graceful shutdown).
  void stop();

 private:
  void announce(const std::vector<std::string>& keys);
  void reconcile();
  void check();  // one tick of the background task: reconcile when due or when routes vanished
  std::vector<std::string> local_keys() const;

  RedisClient& redis_;
  std::string comet_id_;
  const Comet& comet_;
  int ttl_ms_;
  int round_ = 0;  // touched only by the task's thread
  PeriodicTask checker_;
};

// The Job side: reads routes (never cached: a room announced before a page read must receive
// every message persisted after that read).
class RouteTable final : public RouteLookup {
 public:
  explicit RouteTable(RedisClient& redis);
  // False for kRebuildTime after the route epoch changed (RouteEpochWatch): Redis lost the
  // routes and the comets are still re-announcing them.
  bool complete() override;
  std::vector<std::vector<std::string>> rooms(const std::vector<std::string>& room_ids) override;
  std::vector<std::vector<std::string>> users(const std::vector<int64_t>& user_ids) override;

 private:
  std::vector<std::vector<std::string>> read(const std::vector<std::string>& keys);
  RedisClient& redis_;
  RouteEpochWatch epoch_;
};

std::string room_route_key(const std::string& room_id);
std::string user_route_key(int64_t user_id);

}  // namespace roomcast
