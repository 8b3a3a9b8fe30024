// The embedded queue of standalone mode: N in-memory partitions, each drained in order by one
// worker thread that waits a short window so that a burst into a room becomes one batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "queue/queue.h"

namespace roomcast {

// Bounds: a partition holds at most `max_records`; produce() waits up to `full_wait` for room
// and then throws QueueFullError (back-pressure: the sender is told to retry, nothing
// accepted is dropped). A batch whose handler fails is retried with backoff while running;
// after stop() it gets `stop_grace` more, then the partition's records are abandoned (logged)
// so that shutdown never hangs on a broken store.
class LocalQueue final : public QueueProducer, public QueueConsumer {
 public:
  struct Bounds {
    std::size_t max_records = 100000;  // per partition
    std::chrono::milliseconds full_wait{1000};
    std::chrono::milliseconds stop_grace{5000};
  };
  LocalQueue(int partitions, int batch_window_ms, int batch_max, Bounds bounds);
  LocalQueue(int partitions, int batch_window_ms, int batch_max)
      : LocalQueue(partitions, batch_window_ms, batch_max, Bounds{}) {}
  ~LocalQueue() override;

  void produce(std::vector<QueueRecord> records) override;
  void start(Handler handler) override;
  void stop() override;

  static std::size_t partition_of(const std::string& key, std::size_t partitions);
  // Records waiting in each partition (partition, count), for the metrics. Any thread.
  std::vector<std::pair<int32_t, int64_t>> backlog() const;

 private:
  struct Partition {
    std::mutex mutex;
    std::condition_variable ready;
    std::condition_variable space;  // records left the partition (producers wait on it)
    std::deque<QueueRecord> records;
    bool stopping = false;
    std::thread worker;
  };
  void drain(Partition& p);
  // Runs the handler until it succeeds; false when stopping outlasted the grace.
  bool handle(Partition& p, const std::vector<QueueRecord>& batch);
  void append(Partition& p, std::vector<QueueRecord>& records);

  std::vector<std::unique_ptr<Partition>> partitions_;
  int batch_window_ms_;
  std::size_t batch_max_;
  Bounds bounds_;
  Handler handler_;
  std::atomic<std::size_t> next_keyless_{0};  // spreads keyless records; produce() is concurrent
};

}  // namespace roomcast
