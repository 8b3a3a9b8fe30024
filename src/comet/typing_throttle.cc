#include "comet/typing_throttle.h"

#include <algorithm>

namespace roomcast {

bool TypingThrottle::allow(int64_t user_id, const std::string& room_id, Clock::time_point now) {
  auto key = std::to_string(user_id) + ':' + room_id;
  std::lock_guard lock(mutex_);
  auto [it, fresh] = last_.try_emplace(std::move(key), now);
  if (!fresh) {
    if (now - it->second < interval_) return false;
    it->second = now;
  }
  if (last_.size() >= prune_at_) prune(now);
  return true;
}

void TypingThrottle::prune(Clock::time_point now) {
  std::erase_if(last_, [&](auto& entry) { return now - entry.second >= interval_; });
  prune_at_ = std::max<std::size_t>(1024, last_.size() * 2);  // amortised: O(1) per call
}

}  // namespace roomcast
