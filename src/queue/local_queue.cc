#include "queue/local_queue.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "common/metrics_events.h"

namespace roomcast {

LocalQueue::LocalQueue(int partitions, int batch_window_ms, int batch_max, Bounds bounds)
    : batch_window_ms_(batch_window_ms),
      batch_max_(static_cast<std::size_t>(std::max(1, batch_max))),
      bounds_(bounds) {
  for (int i = 0; i < std::max(1, partitions); ++i)
    partitions_.push_back(std::make_unique<Partition>());
}

LocalQueue::~LocalQueue() {
  stop();
}

std::size_t LocalQueue::partition_of(const std::string& key, std::size_t partitions) {
  // FNV-1a: stable across runs and processes, unlike std::hash.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return h % partitions;
}

void LocalQueue::produce(std::vector<QueueRecord> records) {
  // Group by partition first so each partition lock is taken once per call.
  std::vector<std::vector<QueueRecord>> by_partition(partitions_.size());
  for (auto& r : records) {
    std::size_t p = r.room_id.empty() ? (next_keyless_++ % partitions_.size())
                                      : partition_of(r.room_id, partitions_.size());
    by_partition[p].push_back(std::move(r));
  }
  for (std::size_t i = 0; i < partitions_.size(); ++i)
    if (!by_partition[i].empty()) append(*partitions_[i], by_partition[i]);
}

void LocalQueue::append(Partition& p, std::vector<QueueRecord>& records) {
  auto now = metrics::wall_micros();
  for (auto& r : records) r.queued_us = now;
  {
    std::unique_lock lock(p.mutex);
    // A call is taken whole or not at all; one larger than the bound fits an empty partition.
    auto fits = [&] {
      return p.stopping || p.records.empty() ||
             p.records.size() + records.size() <= bounds_.max_records;
    };
    if (!p.space.wait_for(lock, bounds_.full_wait, fits))
      throw QueueFullError("the queue is full; retry shortly");
    if (p.stopping) throw std::runtime_error("queue is stopping");
    for (auto& r : records) p.records.push_back(std::move(r));
  }
  p.ready.notify_one();
}

void LocalQueue::start(Handler handler) {
  handler_ = std::move(handler);
  for (auto& p : partitions_) p->worker = std::thread([this, &part = *p] { drain(part); });
}

void LocalQueue::drain(Partition& p) {
  std::vector<QueueRecord> batch;
  for (;;) {
    {
      std::unique_lock lock(p.mutex);
      bool was_idle = p.records.empty();
      p.ready.wait(lock, [&] { return p.stopping || !p.records.empty(); });
      if (p.records.empty()) return;  // stopping and drained
      // Linger briefly so a burst into an idle partition is merged into one batch (one persist,
      // one push per room). On a busy path what arrived during the last batch goes at once: it
      // has waited already, and it is the batch.
      if (was_idle && batch_window_ms_ > 0 && p.records.size() < batch_max_ && !p.stopping) {
        p.ready.wait_for(lock, std::chrono::milliseconds(batch_window_ms_),
                         [&] { return p.stopping || p.records.size() >= batch_max_; });
      }
      std::size_t n = std::min(batch_max_, p.records.size());
      batch.assign(std::make_move_iterator(p.records.begin()),
                   std::make_move_iterator(p.records.begin() + static_cast<long>(n)));
    }
    auto started = metrics::wall_micros();
    for (auto& r : batch) metrics::delivery_stage(DeliveryStage::kQueued, started - r.queued_us);
    // At-least-once: the records leave the partition only after the handler succeeded.
    bool handled = handle(p, batch);
    metrics::delivery_stage(DeliveryStage::kJob, metrics::wall_micros() - started, batch.size());
    {
      std::lock_guard lock(p.mutex);
      if (handled) {
        p.records.erase(p.records.begin(), p.records.begin() + static_cast<long>(batch.size()));
      } else {
        spdlog::error("queue: stopping with a failing store: {} records abandoned",
                      p.records.size());
        p.records.clear();
      }
    }
    p.space.notify_all();
  }
}

bool LocalQueue::handle(Partition& p, const std::vector<QueueRecord>& batch) {
  std::optional<std::chrono::steady_clock::time_point> give_up_at;
  for (int attempt = 0;; ++attempt) {
    try {
      handler_(batch);
      return true;
    } catch (const std::exception& e) {
      spdlog::error("queue: batch failed (attempt {}): {}", attempt + 1, e.what());
    }
    std::unique_lock lock(p.mutex);
    auto now = std::chrono::steady_clock::now();
    if (p.stopping && !give_up_at) give_up_at = now + bounds_.stop_grace;
    if (give_up_at && now >= *give_up_at) return false;
    // Backoff, cut short by stop() so the grace starts at once.
    auto backoff = std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt, 4)));
    bool was_stopping = p.stopping;
    p.ready.wait_for(lock, backoff, [&] { return p.stopping != was_stopping; });
  }
}

void LocalQueue::stop() {
  for (auto& p : partitions_) {
    {
      std::lock_guard lock(p->mutex);
      p->stopping = true;
    }
    p->ready.notify_all();
    p->space.notify_all();
  }
  for (auto& p : partitions_)
    if (p->worker.joinable()) p->worker.join();
}

std::vector<std::pair<int32_t, int64_t>> LocalQueue::backlog() const {
  std::vector<std::pair<int32_t, int64_t>> out;
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    std::lock_guard lock(partitions_[i]->mutex);
    out.emplace_back(static_cast<int32_t>(i), static_cast<int64_t>(partitions_[i]->records.size()));
  }
  return out;
}

}  // namespace roomcast
