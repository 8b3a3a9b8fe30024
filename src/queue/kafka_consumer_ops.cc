// What operators read from a Job's consumer: lag per partition (/metrics) and broker
// reachability (/readyz). Both only query librdkafka's handle, which is thread-safe.
#include <librdkafka/rdkafkacpp.h>

#include <memory>

#include "queue/kafka_queue.h"

namespace roomcast {

std::vector<std::pair<int32_t, int64_t>> KafkaConsumer::partition_lag() const {
  std::vector<std::pair<int32_t, int64_t>> out;
  if (!consumer_) return out;
  std::vector<RdKafka::TopicPartition*> parts;
  if (consumer_->assignment(parts) != RdKafka::ERR_NO_ERROR) return out;
  consumer_->position(parts);
  for (auto* p : parts) {
    int64_t low = 0;
    int64_t high = 0;
    // The watermarks cached from the last fetch: no round trip to the broker.
    if (consumer_->get_watermark_offsets(p->topic(), p->partition(), &low, &high) !=
            RdKafka::ERR_NO_ERROR ||
        high < 0)
      continue;
    // Nothing consumed since the assignment: everything from the low watermark is pending.
    int64_t position = p->offset() >= 0 ? p->offset() : low;
    out.emplace_back(p->partition(), std::max<int64_t>(0, high - position));
  }
  RdKafka::TopicPartition::destroy(parts);
  return out;
}

bool KafkaConsumer::brokers_reachable(std::chrono::milliseconds timeout) const {
  if (!consumer_) return false;
  RdKafka::Metadata* raw = nullptr;
  auto code = consumer_->metadata(false, nullptr, &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  return code == RdKafka::ERR_NO_ERROR;
}

}  // namespace roomcast
