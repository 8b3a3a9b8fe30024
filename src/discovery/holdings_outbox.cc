#include "discovery/holdings_outbox.h"

namespace roomcast {

void HoldingsOutbox::add(bool full, const std::vector<std::pair<int64_t, int64_t>>& users) {
  if (full) {
    pending_.clear();
    full_ = true;
  }
  for (auto& [id, connections] : users) pending_[id] = connections >= 0;
}

bool HoldingsOutbox::flush() {
  Holdings batch;
  batch.reserve(pending_.size());
  for (auto& [id, held] : pending_)
    if (held || !full_) batch.emplace_back(id, held);  // a full batch names the held ones
  bool resync = send_(full_, batch);
  pending_.clear();
  full_ = false;
  return resync;
}

}  // namespace roomcast
