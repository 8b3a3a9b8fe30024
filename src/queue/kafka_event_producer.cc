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

namespace {
void set(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf.set(key, value, err) != RdKafka::Conf::CONF_OK)
    throw QueueError("kafka: " + key + "=" + value + ": " + err);
}
}  // namespace

KafkaEventProducer::KafkaEventProducer(KafkaOptions options)
    : options_(std::move(options)), reports_(std::make_unique<Reports>(options_.topic)) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set(*conf, "bootstrap.servers", options_.brokers);
  set(*conf, "client.id", "roomcast");
  set(*conf, "log_level", "4");
  for (auto& [k, v] : options_.extra) set(*conf, k, v);
  // Ordered retries without duplicates: one user's records stay in order in its partition.
  set(*conf, "enable.idempotence", "true");
  set(*conf, "acks", "all");
  set(*conf, "message.timeout.ms", std::to_string(options_.message_timeout_ms));
  set(*conf, "linger.ms", std::to_string(options_.linger_ms));
  set(*conf, "partitioner", "murmur2_random");  // Java-compatible hashing of the keys
  std::string err;
  if (conf->set("dr_cb", reports_.get(), err) != RdKafka::Conf::CONF_OK) throw QueueError(err);
  if (options_.create_topic) ensure_kafka_topic(options_);
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) throw QueueError("kafka: cannot create producer: " + err);
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
