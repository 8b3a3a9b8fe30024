// The embedded queue of standalone mode: N in-memory partitions, each drained in order by one
// worker thread that waits a short window so that a burst into a room becomes one batch.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "queue/queue.h"

namespace roomcast {

class LocalQueue final : public QueueProducer, public QueueConsumer {
 public:
  LocalQueue(int partitions, int batch_window_ms, int batch_max);
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
    std::deque<QueueRecord> records;
    bool stopping = false;
    std::thread worker;
  };
  void drain(Partition& p);

  std::vector<std::unique_ptr<Partition>> partitions_;
  int batch_window_ms_;
  std::size_t batch_max_;
  Handler handler_;
  std::atomic<std::size_t> next_keyless_{0};  // spreads keyless records; produce() is concurrent
};

}  // namespace roomcast
