// Keyed records to one Kafka topic without waiting for them (the presence topic): send() hands
// a record to librdkafka and returns; the idempotent producer retries in order until
// message.timeout.ms, and a record that still fails is logged and counted
// (roomcast_kafka_errors_total{operation="produce"}), not retried by the caller.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "queue/kafka_queue.h"

namespace RdKafka {
class Producer;
}  // namespace RdKafka

namespace roomcast {

class KafkaEventProducer {
 public:
  // `options.topic` is the topic written to; created when missing (like KafkaProducer's).
  explicit KafkaEventProducer(KafkaOptions options);
  // Waits up to message.timeout.ms for what was handed over.
  ~KafkaEventProducer();
  KafkaEventProducer(const KafkaEventProducer&) = delete;
  KafkaEventProducer& operator=(const KafkaEventProducer&) = delete;

  // Any thread. Throws QueueError only when librdkafka refuses the record (its queue stayed
  // full for message.timeout.ms).
  void send(const std::string& key, const std::string& value);

 private:
  class Reports;
  KafkaOptions options_;
  std::unique_ptr<Reports> reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;  // serves the delivery reports
};

}  // namespace roomcast
