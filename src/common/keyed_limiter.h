// Per-key rate limits for REST abuse control (docs/protocol.md "Limits"), each table bounded by an
// LruMap so memory stays flat whatever keys a client cycles through. An entry dropped from the
// table is one that has not been touched for the longest time: for a token bucket that is
// usually a full bucket (nothing lost), under a flood of fresh keys the oldest state goes first.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "common/lru_map.h"

namespace roomcast {

using LimiterClock = std::chrono::steady_clock;

// A token bucket per key: `per_minute` sustained, bursts of `burst`. Thread-safe.
class KeyedTokenBuckets {
 public:
  KeyedTokenBuckets(double per_minute, double burst, std::size_t max_keys);

  // Takes one token for `key`: nullopt when allowed, else how long until one is available.
  std::optional<std::chrono::milliseconds> take(const std::string& key,
                                                LimiterClock::time_point now = LimiterClock::now());

 private:
  struct Bucket {
    double tokens;
    LimiterClock::time_point at;
  };
  double per_ms_, burst_;
  std::mutex mutex_;
  LruMap<Bucket> buckets_;
};

// Failed attempts per key in a window that opens at the first failure: once `limit` failures
// fell in the window, every attempt is refused until it closes. Thread-safe.
class FailureWindows {
 public:
  FailureWindows(int limit, std::chrono::milliseconds window, std::size_t max_keys);

  // nullopt when an attempt for `key` may go ahead, else the time left in its window.
  std::optional<std::chrono::milliseconds> blocked(
      const std::string& key, LimiterClock::time_point now = LimiterClock::now());
  void record_failure(const std::string& key, LimiterClock::time_point now = LimiterClock::now());

 private:
  struct Window {
    int failures;
    LimiterClock::time_point opened;
  };
  int limit_;
  std::chrono::milliseconds window_;
  std::mutex mutex_;
  LruMap<Window> windows_;
};

}  // namespace roomcast
