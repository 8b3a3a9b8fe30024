// Service discovery through Redis: every node announces itself (role, id, addresses, load) under
// a key with a TTL that its heartbeat refreshes, plus an index set per role; resolvers list the
// live nodes of a role. A node that joins gets traffic within one resolver refresh; a dead one
// drops out when its key expires (registry_ttl_ms). No peer address is ever configured.
//
// Keys: rc:node:<role>:<id> = "<grpc address>\t<public address>\t<load>" (PX ttl)
//       rc:nodes:<role>     = SET of ids (members whose key expired are pruned by resolvers)
//       rc:registry:epoch   = a random token set by the first heartbeat (NX): when it changes or
//                             vanishes, Redis lost its data (FLUSHALL, restart without a dump)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
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
  // Called (on the heartbeat thread) when a heartbeat finds this node was out of the registry
  // meanwhile: its entry expired (the process was frozen or Redis unreachable beyond the TTL)
  // or was removed (a Job that gave up on a push to it). Peers skipped it while it was out, so
  // a comet re-reads what it may have missed. Set before start().
  void set_on_lost(std::function<void()> on_lost) { on_lost_ = std::move(on_lost); }

 private:
  void beat();
  RedisClient& redis_;
  NodeInfo self_;
  int ttl_ms_;
  LoadFn load_;
  std::function<void()> on_lost_;
  // Heartbeat thread only (start() beats before the thread runs).
  std::optional<std::chrono::steady_clock::time_point> last_beat_;
  PeriodicTask heartbeat_;
};

// The live nodes of one role, refreshed in the background (every `refresh_ms`). Readers get a
// snapshot without touching Redis. When Redis is unreachable the last list is kept: peers that
// were alive probably still are, and gRPC failures mark them bad anyway. When Redis lost its
// data, nodes re-register one by one over a heartbeat; for `grace_ms` after that the nodes
// known before stay listed, so a Job does not drop the pushes of a comet that has not
// re-registered yet. A node that deregisters (or whose key expires) outside that window drops
// out at the next refresh.
class Resolver {
 public:
  Resolver(RedisClient& redis, std::string role, int refresh_ms = 1000, int grace_ms = 5000);
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
  std::chrono::milliseconds grace_;
  mutable std::mutex mutex_;  // guards nodes_, epoch_ and lost_at_
  std::vector<NodeInfo> nodes_;
  std::optional<std::string> epoch_;  // the registry epoch last read ("" when it was missing)
  std::chrono::steady_clock::time_point lost_at_{};  // when Redis was last seen losing data
  PeriodicTask refresher_;
};

std::string node_key(const std::string& role, const std::string& id);

}  // namespace roomcast
