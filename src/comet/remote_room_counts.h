// Members online on the other comets, read on demand (distributed mode): a comet learns the
// other comets' counts of its rooms once per report period, so a room that is new here (its
// first local member just entered) would show only this comet's members in the joiner's
// `hello` or `serverJoinedRoom` until the next period. Standalone has none: the local count
// is the whole count.
#pragma once

#include <string>
#include <vector>

namespace roomcast {

class RemoteRoomCounts {
 public:
  virtual ~RemoteRoomCounts() = default;
  // Reads the other comets' counts of those of `room_ids` never read here yet and hands them
  // to the presence tracker. Blocking: call it on the blocking pool, after the rooms were
  // entered.
  virtual void read_missing(const std::vector<std::string>& room_ids) = 0;
};

}  // namespace roomcast
