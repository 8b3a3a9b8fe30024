// What the callers of service discovery need: the live nodes of one role. The Resolver reads
// them from the Redis registry; tests give callers an in-memory list instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace roomcast {

struct NodeInfo {
  std::string role;  // comet | logic | job
  std::string id;
  std::string address;         // internal gRPC host:port ("" for nodes that serve none)
  std::string public_address;  // comet: WebSocket listener; logic: REST listener
  int64_t load = 0;            // comet: connections
};

class NodeDirectory {
 public:
  virtual ~NodeDirectory() = default;
  // Any thread. The live nodes sorted by id: a snapshot, never blocks on I/O.
  virtual std::vector<NodeInfo> nodes() const = 0;
  // Any thread. Reads the nodes now (e.g. none is known yet, or a route names an unknown one);
  // blocks on I/O and throws when the source is unreadable (nodes() keeps the last list).
  virtual void refresh() = 0;
};

}  // namespace roomcast
