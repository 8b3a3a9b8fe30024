#include "logic/window_counters.h"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace roomcast {

namespace {
int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

WindowCounters::Count LocalWindowCounters::add(const std::string& key, int64_t window_ms) {
  int64_t now = steady_ms();
  std::lock_guard lock(mutex_);
  if (windows_.size() >= sweep_at_) {
    std::erase_if(windows_, [now](const auto& kv) { return kv.second.ends_at_ms <= now; });
    sweep_at_ = std::max<std::size_t>(1024, windows_.size() * 2);
  }
  auto& w = windows_[key];
  if (w.ends_at_ms <= now) w = {0, now + window_ms};
  ++w.count;
  return {w.count, w.ends_at_ms - now};
}

}  // namespace roomcast
