// Counts events per key in fixed windows ("10 per minute"): a key's first event opens its
// window, which then lasts `window_ms`. Logic keeps its per-user counters here: in memory in
// standalone, in Redis in the distributed mode so that every Logic shares them.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace roomcast {

class WindowCounters {
 public:
  struct Count {
    int64_t count = 0;           // events in the current window, this one included
    int64_t window_left_ms = 0;  // until the window ends (when a refused caller may retry)
  };
  virtual ~WindowCounters() = default;
  // Counts one event of `key`. Thread-safe.
  virtual Count add(const std::string& key, int64_t window_ms) = 0;
};

// One process's counters. Expired windows are swept as the table grows.
class LocalWindowCounters final : public WindowCounters {
 public:
  Count add(const std::string& key, int64_t window_ms) override;

 private:
  struct Window {
    int64_t count = 0;
    int64_t ends_at_ms = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::size_t sweep_at_ = 1024;  // sweep expired windows when the table reaches this size
};

}  // namespace roomcast
