#include "queue/kafka_event_producer.h"

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "common/metrics_events.h"

namespace roomcast {

class KafkaEventProducer::Reports : public RdKafka::DeliveryReportCb {
 public:
  explicit Reports(std::string topic) : topic_(std::move(topic)) {}
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() == RdKafka::ERR_NO_ERROR) return;
    metrics::kafka_error("produce");
    spdlog::error("kafka: a record to {} was lost: {}", topic_, m.errstr());
  }

 private:
  std::string topic_;
};

KafkaEventProducer::KafkaEventProducer(KafkaOptions options)
    : options_(std::move(options)), reports_(std::make_unique<Reports>(options_.topic)) {
  producer_ = make_kafka_producer(options_, reports_.get());
  poller_ = std::thread([this] {
    while (!stopping_) producer_->poll(100);
  });
}

KafkaEventProducer::~KafkaEventProducer() {
  producer_->flush(options_.message_timeout_ms);
  stopping_ = true;
  poller_.join();
}

void KafkaEventProducer::send(const std::string& key, const std::string& value) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.message_timeout_ms);
  for (;;) {
    auto code = producer_->produce(options_.topic, RdKafka::Topic::PARTITION_UA,
                                   RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                                   value.size(), key.data(), key.size(), 0, nullptr);
    if (code == RdKafka::ERR_NO_ERROR) return;
    // The local queue is full: wait for deliveries to make room (the poller serves them).
    if (code == RdKafka::ERR__QUEUE_FULL && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    metrics::kafka_error("produce");
    throw QueueError("kafka: produce to " + options_.topic + " failed: " + RdKafka::err2str(code));
  }
}

}  // namespace roomcast
