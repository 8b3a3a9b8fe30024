#include "discovery/holdings_outbox.h"

namespace roomcast {

void HoldingsOutbox::add(bool full, const std::vector<std::pair<int64_t, int64_t>>& users) {
  std::lock_guard lock(mutex_);
  if (full) {
    pending_.clear();
    full_ = true;
  }
  for (auto& [id, connections] : users) pending_[id] = connections >= 0;
}

bool HoldingsOutbox::flush() {
  std::unordered_map<int64_t, bool> taken;
  bool full = false;
  {
    std::lock_guard lock(mutex_);
    taken.swap(pending_);
    std::swap(full, full_);
  }
  Holdings batch;
  batch.reserve(taken.size());
  for (auto& [id, held] : taken)
    if (held || !full) batch.emplace_back(id, held);  // a full batch names the held ones
  try {
    return send_(full, batch);
  } catch (...) {
    // Back in, under what was added meanwhile (newer); a newer full batch replaces it all.
    std::lock_guard lock(mutex_);
    if (!full_) {
      taken.merge(pending_);                               // moves the users only added since
      for (auto& [id, held] : pending_) taken[id] = held;  // the others: the newer state wins
      pending_.swap(taken);
      full_ = full;
    }
    throw;
  }
}

}  // namespace roomcast
