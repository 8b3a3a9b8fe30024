// The per-user connection limit across every comet of a deployment (distributed mode): each
// comet records its users' connections in one shared place and learns which of its own to
// close (4008) when a user opens one too many anywhere. Standalone has none: the comet's own
// count is the whole count.
#pragma once

#include <cstdint>
#include <vector>

namespace roomcast {

class ClusterConnections {
 public:
  virtual ~ClusterConnections() = default;
  // A connection of `user_id` opened on this comet. Returns the ids of this comet's
  // connections that must give way (the user's oldest past the limit); the other comets'
  // ones are told to their comets. Blocking: call it on the blocking pool.
  virtual std::vector<uint64_t> opened(int64_t user_id, uint64_t conn_id) = 0;
  // The connection closed. Blocking: call it on the blocking pool.
  virtual void closed(int64_t user_id, uint64_t conn_id) = 0;
};

}  // namespace roomcast
