// The queue seam on Kafka (librdkafka). Chat and room records are keyed by room id, so one
// room's records land in one partition, which one member of the consumer group (one Job) owns
// at a time: the single writer of the room's sequence.
//
// KafkaProducer: idempotent (enable.idempotence, acks=all), so broker retries neither reorder
// nor duplicate. produce() returns only once every record of the call is acknowledged, or throws
// QueueError after message.timeout.ms.
// KafkaConsumer: consumer group, manual commits. One thread polls, gathers up to batch_max
// records or batch_window_ms, and calls the handler once per round with the records of all its
// partitions (each partition's in offset order); the round's offsets are committed (commitAsync;
// commitSync for the last round before stop) only after the handler returned. When it throws,
// every partition of the round is sought back to its first offset and the round is delivered
// again (with backoff). on_assign is called whenever partitions are (re)assigned, so Job can
// drop sequence state of rooms another Job may have written meanwhile.
//
// The topic is created when missing (CreateTopics with `partitions`; a broker that refuses
// leaves it to auto-creation, and the mock creates it at start: roomcast-kafka-mock).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "queue/gathered.h"
#include "queue/queue.h"

namespace RdKafka {
class Producer;
class KafkaConsumer;
class DeliveryReportCb;
}  // namespace RdKafka

namespace roomcast {

struct Config;

struct QueueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The settings come from the settings table (the defaults are Config's, declared once there).
struct KafkaOptions {
  KafkaOptions();  // the settings' defaults
  explicit KafkaOptions(const Config& config);
  static KafkaOptions from_config(const Config& config) { return KafkaOptions(config); }

  std::string brokers;          // kafka_brokers
  std::string topic;            // kafka_topic
  std::string group;            // kafka_group
  int partitions;               // queue_partitions: when the topic is created here
  int replication_factor = -1;  // -1: the broker's default
  bool create_topic = true;
  int message_timeout_ms;     // kafka_message_timeout_ms: producer gives up on a record
  int linger_ms = 2;          // producer: batch records produced together
  int session_timeout_ms;     // kafka_session_timeout_ms: a dead Job's partitions move
  int heartbeat_interval_ms;  // kafka_heartbeat_ms
  int batch_max;              // job_batch_max: consumer records per poll round
  int batch_window_ms;        // job_batch_window_ms: how long a round gathers records
  std::map<std::string, std::string> extra;  // kafka_props: any other librdkafka property
};

class KafkaProducer final : public QueueProducer {
 public:
  explicit KafkaProducer(KafkaOptions options);
  explicit KafkaProducer(const Config& config);
  ~KafkaProducer() override;

  // Any thread. Every record of a call is handed to librdkafka first, then the acks are waited
  // for once (produce_groups: one wait for a whole batch of client events).
  void produce(std::vector<QueueRecord> records) override;
  std::vector<std::exception_ptr> produce_groups(
      std::vector<std::vector<QueueRecord>> groups) override;

 private:
  struct Delivery;
  struct GroupTag;
  class Reports;
  // Hands one record to librdkafka (waiting while its local queue is full); false if refused.
  bool hand_over(const QueueRecord& r, std::string& payload, GroupTag* tag, std::string& error);
  KafkaOptions options_;
  std::unique_ptr<Reports> reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;  // serves delivery reports for every produce() call
};

class KafkaConsumer final : public QueueConsumer {
 public:
  explicit KafkaConsumer(KafkaOptions options, std::function<void()> on_assign = {});
  explicit KafkaConsumer(const Config& config, std::function<void()> on_assign = {});
  ~KafkaConsumer() override;

  void start(Handler handler) override;
  void stop() override;  // finishes the batch in hand, then leaves the group (final)

  // For operators (queue/kafka_consumer_ops.cc), any thread: the lag of each assigned partition
  // (high watermark minus position) and whether a broker answers within `timeout`.
  std::vector<std::pair<int32_t, int64_t>> partition_lag() const;
  bool brokers_reachable(std::chrono::milliseconds timeout) const;

 private:
  class Rebalance;
  class CommitReports;
  // The consumer thread: gather a round, hand its records over, commit, repeat.
  void run();
  // Blocks briefly for the first record, then takes what arrives within `window_ms` (0: what
  // is fetched already), up to batch_max; drops what a rebalance inside consume() took away.
  // Returns the record count.
  std::size_t gather_round(std::vector<GatheredPartition>& parts, int window_ms);
  // Hands the round's records to the handler in one call and commits them; on a failure every
  // partition is rewound to its batch and `failures` grows (the back-off).
  void handle_round(std::vector<GatheredPartition>& parts, int& failures);
  void rewind(const std::vector<GatheredPartition>& parts, std::size_t from);
  // `wait`: commitSync (the last round before leaving the group), else commitAsync.
  void commit(const std::vector<GatheredPartition>& parts, bool wait);

  KafkaOptions options_;
  std::function<void()> on_assign_;
  std::unique_ptr<Rebalance> rebalance_;
  std::unique_ptr<CommitReports> commit_reports_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  Handler handler_;
  std::atomic<bool> running_{false};
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> generation_{0};  // bumped on every rebalance
  // Set by the rebalance callback, which runs inside consume() on the consumer thread.
  bool lost_all_ = false;         // an eager rebalance: everything gathered is dropped
  std::vector<int32_t> revoked_;  // partitions revoked by a cooperative rebalance
  std::thread thread_;
};

// Creates the topic if it does not exist (used by both; exposed for tools and tests).
void ensure_kafka_topic(const KafkaOptions& options);

// A producer with roomcast's settings, for the chat topic and the presence topic alike:
// idempotent with acks=all (ordered retries, no duplicates), the options' message timeout and
// linger (unless the operator's extra properties set it), Java-compatible key hashing, delivery
// reports to `reports`. Creates the topic first when the options ask for it.
std::unique_ptr<RdKafka::Producer> make_kafka_producer(const KafkaOptions& options,
                                                       RdKafka::DeliveryReportCb* reports);

}  // namespace roomcast
