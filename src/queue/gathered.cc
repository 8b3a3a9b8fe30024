#include "queue/gathered.h"

#include <algorithm>

namespace roomcast {

std::size_t forget_lost_partitions(std::vector<GatheredPartition>& parts, bool lost_all,
                                   const std::vector<int32_t>& revoked) {
  if (lost_all) parts.clear();
  std::erase_if(parts, [&](const GatheredPartition& p) {
    return std::find(revoked.begin(), revoked.end(), p.partition) != revoked.end();
  });
  std::size_t count = 0;
  for (auto& p : parts) count += static_cast<std::size_t>(p.last_offset - p.first_offset + 1);
  return count;
}

}  // namespace roomcast
