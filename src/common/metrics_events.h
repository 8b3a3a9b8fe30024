// What the layers report to the metrics (common/metrics.h), without pulling in prometheus-cpp.
// Every function is cheap and callable from any thread: the per-message and per-delivery ones
// touch only the calling thread's counter slot.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace roomcast {

enum class PoolKind { kMysql, kRedis, kBlocking };

// Where a message waits on its way to the sockets, roomcast_delivery_stage_seconds{stage}:
// kQueued: in the in-process queue, from produce to its batch's handler (the batch window
// included); kJob: Job handling the batch (persist, hand to the comets); kInbox: in an I/O loop's
// inbox, from the push to the drain that takes it; kWrite: that drain, from its start until
// every session it fed has written (the kernel took it all, or Asio holds the rest).
enum class DeliveryStage { kQueued, kJob, kInbox, kWrite };
inline constexpr std::size_t kDeliveryStages = 4;

namespace metrics {

void messages_accepted(std::size_t n);
// One message written to one connection; `accepted_ms` is when Logic accepted it (wall clock),
// `now_us` the wall clock now (delivery_micros()).
void delivered(int64_t accepted_ms, int64_t now_us);
int64_t wall_micros();

// Reading the clock costs more than counting a delivery (~60 ns here), so an I/O loop reads it
// once per drain of its inbox: inside a DeliveryClock's scope delivery_micros() returns that
// reading, elsewhere the clock. Only for the constructing thread.
class DeliveryClock {
 public:
  DeliveryClock();
  ~DeliveryClock();
  DeliveryClock(const DeliveryClock&) = delete;
  DeliveryClock& operator=(const DeliveryClock&) = delete;
};
int64_t delivery_micros();
void pool_wait(PoolKind pool, std::chrono::steady_clock::duration waited);
// `count` messages spent `micros` each in `stage`.
void delivery_stage(DeliveryStage stage, int64_t micros, uint64_t count = 1);
void close_code(uint16_t code);
void rate_limited(std::string_view what);
void kafka_error(std::string_view operation);                    // "produce" | "consume"
void presence_transition(bool online, std::string_view source);  // "report" | "sweep"

// Messages (anything with `timestamp_ms`, the acceptance time) written to one connection.
template <class It>
void count_deliveries(It first, It last) {
  if (first == last) return;
  auto now = delivery_micros();
  for (; first != last; ++first) delivered(first->timestamp_ms, now);
}

// Measures from construction to destruction as a wait for `pool`.
class PoolWaitTimer {
 public:
  explicit PoolWaitTimer(PoolKind pool) : pool_(pool) {}
  ~PoolWaitTimer() { pool_wait(pool_, std::chrono::steady_clock::now() - start_); }
  PoolWaitTimer(const PoolWaitTimer&) = delete;
  PoolWaitTimer& operator=(const PoolWaitTimer&) = delete;

 private:
  PoolKind pool_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace metrics
}  // namespace roomcast
