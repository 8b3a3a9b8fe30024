#include "common/sharded_metrics.h"

#include <cmath>
#include <stdexcept>

namespace roomcast {

std::size_t metric_slot() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kMetricSlots;
  return slot;
}

uint64_t ShardedCounter::value() const noexcept {
  uint64_t total = 0;
  for (auto& s : slots_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

ShardedHistogram::ShardedHistogram(std::span<const double> upper_bounds_seconds)
    : bounds_seconds_(upper_bounds_seconds.begin(), upper_bounds_seconds.end()) {
  if (bounds_seconds_.size() > kMaxBounds)
    throw std::invalid_argument("histogram: too many buckets");
  for (std::size_t i = 0; i < bounds_seconds_.size(); ++i) {
    if (i > 0 && bounds_seconds_[i] <= bounds_seconds_[i - 1])
      throw std::invalid_argument("histogram: bounds must ascend");
    bounds_micros_.push_back(std::llround(bounds_seconds_[i] * 1e6));
  }
}

void ShardedHistogram::observe_micros(int64_t micros, uint64_t count) noexcept {
  if (micros < 0) micros = 0;  // clocks of two hosts disagree a little
  std::size_t bucket = 0;
  while (bucket < bounds_micros_.size() && micros > bounds_micros_[bucket]) ++bucket;
  auto& slot = slots_[metric_slot()];
  slot.buckets[bucket].fetch_add(count, std::memory_order_relaxed);
  slot.sum_micros.fetch_add(static_cast<uint64_t>(micros) * count, std::memory_order_relaxed);
}

ShardedHistogram::Snapshot ShardedHistogram::snapshot() const {
  Snapshot out;
  out.upper_bounds = bounds_seconds_;
  std::vector<uint64_t> per_bucket(bounds_seconds_.size() + 1, 0);
  uint64_t sum = 0;
  for (auto& slot : slots_) {
    for (std::size_t b = 0; b < per_bucket.size(); ++b)
      per_bucket[b] += slot.buckets[b].load(std::memory_order_relaxed);
    sum += slot.sum_micros.load(std::memory_order_relaxed);
  }
  uint64_t running = 0;
  for (auto n : per_bucket) out.cumulative.push_back(running += n);
  out.sum_seconds = static_cast<double>(sum) / 1e6;
  return out;
}

}  // namespace roomcast
