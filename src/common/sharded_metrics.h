// Counters and histograms for the hot path (every message, every delivery). Each thread adds to
// its own cache line with relaxed atomics, so many I/O loops counting at once never contend; a
// scrape sums the slots. Values are exact once the writers are quiet, and a scrape racing with
// writers sees each slot's latest value (good enough for rates).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace roomcast {

// Threads are spread over this many slots (round-robin by first use); more threads than slots
// share slots, which is still correct (atomic adds), only no longer free of contention.
inline constexpr std::size_t kMetricSlots = 64;

// The slot of the calling thread, fixed on its first call. Any thread.
std::size_t metric_slot() noexcept;

class ShardedCounter {
 public:
  // Any thread.
  void add(uint64_t n = 1) noexcept {
    slots_[metric_slot()].value.fetch_add(n, std::memory_order_relaxed);
  }
  // Any thread (the scrape).
  uint64_t value() const noexcept;

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> value{0};
  };
  std::array<Slot, kMetricSlots> slots_{};
};

// A histogram over fixed upper bounds (seconds). Observations are recorded in microseconds.
class ShardedHistogram {
 public:
  static constexpr std::size_t kMaxBounds = 15;
  explicit ShardedHistogram(std::span<const double> upper_bounds_seconds);

  // Records `count` observations of `micros` each. Any thread.
  void observe_micros(int64_t micros, uint64_t count = 1) noexcept;

  struct Snapshot {
    std::vector<double> upper_bounds;  // seconds, ascending, without +Inf
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (= count)
    double sum_seconds = 0;
  };
  // Any thread (the scrape).
  Snapshot snapshot() const;

 private:
  struct alignas(64) Slot {
    std::array<std::atomic<uint64_t>, kMaxBounds + 1> buckets{};  // last: above every bound
    std::atomic<uint64_t> sum_micros{0};
  };
  std::vector<int64_t> bounds_micros_;
  std::vector<double> bounds_seconds_;
  std::array<Slot, kMetricSlots> slots_{};
};

}  // namespace roomcast
