// What a Kafka consumer gathered in one round, per partition, and what a rebalance takes away.
#pragma once

#include <cstdint>
#include <vector>

#include "queue/queue.h"

namespace roomcast {

struct GatheredPartition {
  int32_t partition = 0;
  int64_t first_offset = -1, last_offset = -1;
  std::vector<QueueRecord> records;
};

// After a rebalance: drops what was gathered of the partitions this consumer lost — all of
// them after an eager rebalance (`lost_all`: what stays restarts from the committed offsets),
// only the `revoked` ones after a cooperative one (the others keep their fetch position, so
// dropping their records would skip them for good). Returns how many records (offsets) are
// still gathered. Any thread.
std::size_t forget_lost_partitions(std::vector<GatheredPartition>& parts, bool lost_all,
                                   const std::vector<int32_t>& revoked);

}  // namespace roomcast
