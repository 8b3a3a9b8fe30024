// Service discovery through Redis: every node announces itself (role, id, addresses, load) under
// a key with a TTL that its heartbeat refreshes, plus an index set per role; resolvers list the
// live nodes of a role. A node that joins gets traffic within one resolver refresh; a dead one
// drops out when its key expires (registry_ttl_ms). No peer address is ever configured.
//
// Keys: rc:node:<role>:<id> = "<grpc address>\t<public address>\t<load>" (PX ttl)
//       rc:nodes:<role>     = SET of ids (members whose key expired are pruned by resolvers)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/periodic_task.h"
#include "store/redis_client.h"

namespace roomcast {

struct NodeInfo {
  std::string role;  // comet | logic | job
  std::string id;
  std::string address;         // internal gRPC host:port ("" for nodes that serve none)
  std::string public_address;  // comet: WebSocket listener; logic: REST listener
  int64_t load = 0;            // comet: connections
};

// Keeps this node's entry alive until stop() (which removes it, so peers stop at once).
class Registry {
 public:
  using LoadFn = std::function<int64_t()>;
  Registry(RedisClient& redis, NodeInfo self, int ttl_ms, LoadFn load = {});
  ~Registry();
  void start();
  void stop();

 private:
  void beat();
  RedisClient& redis_;
  NodeInfo self_;
  int ttl_ms_;
  LoadFn load_;
  PeriodicTask heartbeat_;
};

// The live nodes of one role, refreshed in the background (every `refresh_ms`). Readers get a
// snapshot without touching Redis. When Redis is unreachable the last list is kept: peers that
// were alive probably still are, and gRPC failures mark them bad anyway.
class Resolver {
 public:
  Resolver(RedisClient& redis, std::string role, int refresh_ms = 1000);
  ~Resolver();
  void start();  // refreshes once synchronously, then in the background
  void stop();
  std::vector<NodeInfo> nodes() const;
  // Reads the registry now (e.g. when no peer is known yet).
  void refresh();

 private:
  RedisClient& redis_;
  std::string role_;
  int refresh_ms_;
  mutable std::mutex mutex_;  // guards nodes_ and last_seen_
  std::vector<NodeInfo> nodes_;
  std::chrono::steady_clock::time_point last_seen_{};  // when the list was last non-empty
  PeriodicTask refresher_;
};

std::string node_key(const std::string& role, const std::string& id);

}  // namespace roomcast
