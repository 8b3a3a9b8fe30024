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
#include "discovery/known_nodes.h"
#include "discovery/node_directory.h"
#include "store/redis_client.h"

namespace roomcast {

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
// data the nodes known before stay listed for `grace_ms` (KnownNodes). A node that deregisters
// (or whose key expires) outside that window drops out at the next refresh.
class Resolver final : public NodeDirectory {
 public:
  Resolver(RedisClient& redis, std::string role, int refresh_ms = 1000, int grace_ms = 5000);
  ~Resolver() override;
  // The owner's thread: refreshes once synchronously, then in the background until stop().
  void start();
  void stop();
  std::vector<NodeInfo> nodes() const override;
  void refresh() override;

 private:
  RedisClient& redis_;
  std::string role_;
  int refresh_ms_;
  mutable std::mutex mutex_;  // guards known_
  KnownNodes known_;
  PeriodicTask refresher_;
};

std::string node_key(const std::string& role, const std::string& id);

}  // namespace roomcast
