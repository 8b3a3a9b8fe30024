// The Resolver's decisions, apart from Redis so they can be tested: how a registry entry reads,
// and which nodes stay listed when Redis lost the registry (FLUSHALL, restart without a dump).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "discovery/node_directory.h"

namespace roomcast {

// A registry entry's value "<grpc address>\t<public address>\t<load>"; missing fields are
// empty, an unreadable load is 0.
NodeInfo parse_node_entry(const std::string& role, const std::string& id, const std::string& value);

// The node list of one role across refreshes. Nodes re-register one by one over a heartbeat
// after the registry was lost, so for `grace` after a loss is seen the nodes listed before stay
// listed until they are back: a Job does not drop the pushes of a comet that has not
// re-registered yet. Outside that window the list is exactly what the refresh read. Not
// thread-safe (the Resolver holds its lock around it).
class KnownNodes {
 public:
  using Clock = std::chrono::steady_clock;
  explicit KnownNodes(std::chrono::milliseconds grace) : grace_(grace) {}

  // One refresh: `live` the entries read, `epoch` the registry epoch read after them ("" when
  // missing). A token that changed or vanished since the last refresh means the registry was
  // lost (a missing one that appears is the first node starting). Returns true when this
  // refresh saw a loss.
  bool update(std::vector<NodeInfo> live, const std::string& epoch, Clock::time_point now);
  // Sorted by id.
  const std::vector<NodeInfo>& nodes() const { return nodes_; }

 private:
  std::chrono::milliseconds grace_;
  std::vector<NodeInfo> nodes_;
  std::optional<std::string> epoch_;          // the epoch last read ("" when it was missing)
  std::optional<Clock::time_point> lost_at_;  // when a loss was last seen
};

}  // namespace roomcast
