#include "queue/kafka_queue.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "common/config.h"
#include "common/metrics_events.h"
#include "queue/gathered.h"
#include "queue/record_codec.h"

namespace roomcast {

namespace {

void set(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf.set(key, value, err) != RdKafka::Conf::CONF_OK)
    throw QueueError("kafka: " + key + "=" + value + ": " + err);
}

std::unique_ptr<RdKafka::Conf> base_conf(const KafkaOptions& o) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set(*conf, "bootstrap.servers", o.brokers);
  set(*conf, "client.id", "roomcast");
  set(*conf, "log_level", "4");  // warnings and worse: the client logs every reconnect at info
  for (auto& [k, v] : o.extra) set(*conf, k, v);
  return conf;
}

// Sets key unless the operator's extra properties name it (those were applied already).
void conf_set_default(RdKafka::Conf& conf, const std::string& key, const std::string& value,
                      const std::map<std::string, std::string>& extra) {
  if (!extra.count(key)) set(conf, key, value);
}

}  // namespace

KafkaOptions::KafkaOptions() : KafkaOptions(Config{}) {}

KafkaOptions::KafkaOptions(const Config& c)
    : brokers(c.kafka_brokers),
      topic(c.kafka_topic),
      group(c.kafka_group),
      partitions(c.queue_partitions),
      message_timeout_ms(c.kafka_message_timeout_ms),
      session_timeout_ms(c.kafka_session_timeout_ms),
      heartbeat_interval_ms(c.kafka_heartbeat_ms),
      batch_max(c.job_batch_max),
      batch_window_ms(c.job_batch_window_ms) {
  for (auto& [key, value] : kafka_properties(c.kafka_props)) extra[key] = value;
}

void ensure_kafka_topic(const KafkaOptions& o) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", o.brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  for (auto& [k, v] : o.extra) rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) throw QueueError(std::string("kafka: ") + err);
  // Already there (the usual case, and the mock's topic): nothing to do. Metadata of all topics
  // is asked for, because asking for one topic can auto-create it with the broker's defaults.
  const rd_kafka_metadata_t* md = nullptr;
  bool exists = false;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topic_cnt; ++i)
      if (o.topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        exists = true;
    rd_kafka_metadata_destroy(md);
  }
  if (exists) {
    rd_kafka_destroy(rk);
    return;
  }
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, o.replication_factor, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(opts, 5000, err, sizeof err);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 5000, err, sizeof err);
  rd_kafka_CreateTopics(rk, &topic, 1, opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 8000);
  std::string problem;
  if (!ev) {
    problem = "no answer";
  } else if (rd_kafka_event_error(ev)) {
    problem = rd_kafka_event_error_string(ev);
  } else if (auto* res = rd_kafka_event_CreateTopics_result(ev)) {
    size_t n = 0;
    auto** topics = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; ++i) {
      auto code = rd_kafka_topic_result_error(topics[i]);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR)
        spdlog::info("kafka: created topic {} ({} partitions)", o.topic, o.partitions);
      else if (code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        problem = rd_kafka_err2str(code);
    }
  }
  if (!problem.empty())
    spdlog::warn("kafka: could not create topic {} ({}); relying on it existing or auto-creation",
                 o.topic, problem);
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(topic);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

// ---- producer ----

// The outcome of one produce_groups() call, shared with the delivery reports of its records.
struct KafkaProducer::Delivery {
  std::mutex mutex;
  std::condition_variable done;
  std::size_t pending = 0;
  std::vector<std::string> errors;  // per group: its first failure
};

// A record's delivery report names its call and its group.
struct KafkaProducer::GroupTag {
  Delivery* delivery;
  std::size_t group;
};

class KafkaProducer::Reports : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    auto* tag = static_cast<GroupTag*>(m.msg_opaque());
    if (!tag) return;
    auto& d = *tag->delivery;
    std::lock_guard lock(d.mutex);
    if (m.err() != RdKafka::ERR_NO_ERROR && d.errors[tag->group].empty())
      d.errors[tag->group] = m.errstr();
    if (--d.pending == 0) d.done.notify_all();
  }
};

KafkaProducer::KafkaProducer(const Config& config)
    : KafkaProducer(KafkaOptions::from_config(config)) {}

std::unique_ptr<RdKafka::Producer> make_kafka_producer(const KafkaOptions& options,
                                                       RdKafka::DeliveryReportCb* reports) {
  auto conf = base_conf(options);
  set(*conf, "enable.idempotence", "true");  // implies acks=all, ordered retries, no duplicates
  set(*conf, "acks", "all");
  set(*conf, "message.timeout.ms", std::to_string(options.message_timeout_ms));
  // Logic hands over whole batches (produce_groups, presence batches), so a longer linger
  // would only add latency; the operator's kafka_props may still set it.
  conf_set_default(*conf, "linger.ms", std::to_string(options.linger_ms), options.extra);
  // Java-compatible key hashing (keyed records), random partitions for records without a key.
  set(*conf, "partitioner", "murmur2_random");
  std::string err;
  if (conf->set("dr_cb", reports, err) != RdKafka::Conf::CONF_OK) throw QueueError(err);
  if (options.create_topic) ensure_kafka_topic(options);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) throw QueueError("kafka: cannot create producer: " + err);
  return producer;
}

KafkaProducer::KafkaProducer(KafkaOptions options)
    : options_(std::move(options)), reports_(std::make_unique<Reports>()) {
  producer_ = make_kafka_producer(options_, reports_.get());
  poller_ = std::thread([this] {
    while (!stopping_) producer_->poll(100);
  });
}

KafkaProducer::~KafkaProducer() {
  producer_->flush(options_.message_timeout_ms);
  stopping_ = true;
  poller_.join();
}

void KafkaProducer::produce(std::vector<QueueRecord> records) {
  if (records.empty()) return;
  std::vector<std::vector<QueueRecord>> one;
  one.push_back(std::move(records));
  if (auto error = produce_groups(std::move(one)).front()) std::rethrow_exception(error);
}

bool KafkaProducer::hand_over(const QueueRecord& r, std::string& payload, GroupTag* tag,
                              std::string& error) {
  auto& d = *tag->delivery;
  encode_record(r, payload);
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.message_timeout_ms);
  for (;;) {
    {
      std::lock_guard lock(d.mutex);
      ++d.pending;
    }
    auto code = producer_->produce(options_.topic, RdKafka::Topic::PARTITION_UA,
                                   RdKafka::Producer::RK_MSG_COPY, payload.data(), payload.size(),
                                   r.room_id.empty() ? nullptr : r.room_id.data(), r.room_id.size(),
                                   0, tag);
    if (code == RdKafka::ERR_NO_ERROR) return true;
    {
      std::lock_guard lock(d.mutex);
      --d.pending;
    }
    // The local queue is full: wait for deliveries to make room (the poller serves them).
    if (code == RdKafka::ERR__QUEUE_FULL && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    error = "kafka: produce failed: " + RdKafka::err2str(code);
    return false;
  }
}

std::vector<std::exception_ptr> KafkaProducer::produce_groups(
    std::vector<std::vector<QueueRecord>> groups) {
  std::vector<std::exception_ptr> outcomes(groups.size());
  Delivery d;
  d.errors.resize(groups.size());
  std::vector<GroupTag> tags;
  tags.reserve(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) tags.push_back({&d, g});
  std::string payload;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::string refused;
    for (auto& r : groups[g]) {
      if (hand_over(r, payload, &tags[g], refused)) continue;
      metrics::kafka_error("produce");
      outcomes[g] = std::make_exception_ptr(QueueError(refused));
      break;
    }
  }
  // Delivery reports always arrive, at the latest when message.timeout.ms expires; records
  // handed over keep their pointer to `d` until then.
  std::unique_lock lock(d.mutex);
  d.done.wait(lock, [&] { return d.pending == 0; });
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (outcomes[g] || d.errors[g].empty()) continue;
    metrics::kafka_error("produce");
    outcomes[g] = std::make_exception_ptr(QueueError("kafka: delivery failed: " + d.errors[g]));
  }
  return outcomes;
}

// ---- consumer ----

class KafkaConsumer::Rebalance : public RdKafka::RebalanceCb {
 public:
  explicit Rebalance(KafkaConsumer& owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    ++owner_.generation_;  // run() then drops what it gathered of the partitions lost
    bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    // Eager: the whole assignment goes, and what stays restarts from the committed offsets.
    // Cooperative: only the revoked partitions go; the others keep their fetch position, so
    // records gathered of them must not be dropped (nothing would fetch them again).
    if (!cooperative) owner_.lost_all_ = true;
    if (cooperative && err != RdKafka::ERR__ASSIGN_PARTITIONS)
      for (auto* tp : partitions) owner_.revoked_.push_back(tp->partition());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      spdlog::info("kafka: {} partitions assigned", partitions.size());
      if (owner_.on_assign_) owner_.on_assign_();
      if (cooperative)
        consumer->incremental_assign(partitions);
      else
        consumer->assign(partitions);
    } else {
      spdlog::info("kafka: {} partitions revoked", partitions.size());
      if (cooperative)
        consumer->incremental_unassign(partitions);
      else
        consumer->unassign();
    }
  }

 private:
  KafkaConsumer& owner_;
};

// Asynchronous commits report here (inside consume(), on the consumer thread).
class KafkaConsumer::CommitReports : public RdKafka::OffsetCommitCb {
 public:
  void offset_commit_cb(RdKafka::ErrorCode err,
                        std::vector<RdKafka::TopicPartition*>& offsets) override {
    if (err == RdKafka::ERR_NO_ERROR || err == RdKafka::ERR__NO_OFFSET) return;
    spdlog::warn("kafka: commit of {} partitions failed: {} (they are redelivered)", offsets.size(),
                 RdKafka::err2str(err));
  }
};

KafkaConsumer::KafkaConsumer(const Config& config, std::function<void()> on_assign)
    : KafkaConsumer(KafkaOptions::from_config(config), std::move(on_assign)) {}

KafkaConsumer::KafkaConsumer(KafkaOptions options, std::function<void()> on_assign)
    : options_(std::move(options)),
      on_assign_(std::move(on_assign)),
      rebalance_(std::make_unique<Rebalance>(*this)),
      commit_reports_(std::make_unique<CommitReports>()) {
  auto conf = base_conf(options_);
  set(*conf, "group.id", options_.group);
  set(*conf, "enable.auto.commit", "false");
  set(*conf, "enable.auto.offset.store", "false");
  set(*conf, "auto.offset.reset", "earliest");  // a new group starts at the beginning
  set(*conf, "session.timeout.ms", std::to_string(options_.session_timeout_ms));
  set(*conf, "heartbeat.interval.ms", std::to_string(options_.heartbeat_interval_ms));
  // A fetch that finds nothing new waits this long at the broker; librdkafka's 500 ms default
  // was most of a message's end-to-end time at chat rates (p50 274 ms at 100 msg/s, 17 ms with
  // 10 ms). Set before the extra properties, so kafka_props can still change it.
  conf_set_default(*conf, "fetch.wait.max.ms", "10", options_.extra);
  std::string err;
  if (conf->set("rebalance_cb", rebalance_.get(), err) != RdKafka::Conf::CONF_OK ||
      conf->set("offset_commit_cb", commit_reports_.get(), err) != RdKafka::Conf::CONF_OK)
    throw QueueError(err);
  if (options_.create_topic) ensure_kafka_topic(options_);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw QueueError("kafka: cannot create consumer: " + err);
}

KafkaConsumer::~KafkaConsumer() {
  stop();
}

void KafkaConsumer::start(Handler handler) {
  handler_ = std::move(handler);
  auto code = consumer_->subscribe({options_.topic});
  if (code != RdKafka::ERR_NO_ERROR)
    throw QueueError("kafka: subscribe: " + RdKafka::err2str(code));
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void KafkaConsumer::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  // Leave the group now rather than at destruction, so the partitions move to the other Jobs
  // at once instead of after session.timeout.ms.
  if (!closed_.exchange(true)) consumer_->close();
}

void KafkaConsumer::run() {
  int failures = 0;
  bool busy = false;
  while (running_) {
    std::vector<GatheredPartition> parts;  // in first-seen order; one entry per partition
    // Linger for a burst only after an idle round: on a busy path what arrived during the last
    // round has waited already, and it is the next round.
    busy = gather_round(parts, busy ? 0 : options_.batch_window_ms) > 0;
    handle_round(parts, failures);
  }
}

std::size_t KafkaConsumer::gather_round(std::vector<GatheredPartition>& parts, int window_ms) {
  std::size_t count = 0;
  uint64_t generation = generation_;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (running_ && count < static_cast<std::size_t>(options_.batch_max)) {
    // Past the deadline consume(0) still takes what is fetched already, and nothing more.
    auto now = std::chrono::steady_clock::now();
    int timeout =
        deadline == std::chrono::steady_clock::time_point::max()
            ? 100
            : static_cast<int>(std::max<int64_t>(
                  0,
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()));
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(timeout));
    if (generation != generation_) {
      // A rebalance ran inside consume(): revoked partitions may belong to another Job now,
      // which starts from the committed offsets. Drop what was gathered of them.
      count = forget_lost_partitions(parts, lost_all_, revoked_);
      lost_all_ = false;
      revoked_.clear();
      generation = generation_;
      if (count == 0) deadline = std::chrono::steady_clock::time_point::max();
    }
    if (m->err() == RdKafka::ERR__TIMED_OUT) {
      if (count > 0) break;
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (m->err() != RdKafka::ERR__PARTITION_EOF) {
        metrics::kafka_error("consume");
        spdlog::warn("kafka: consume: {}", m->errstr());
      }
      continue;
    }
    if (count == 0)
      deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, window_ms));
    GatheredPartition* p = nullptr;
    for (auto& q : parts)
      if (q.partition == m->partition()) p = &q;
    if (!p) {
      parts.push_back({m->partition(), m->offset(), m->offset(), {}});
      p = &parts.back();
    }
    p->last_offset = m->offset();
    ++count;
    try {
      p->records.push_back(decode_record({static_cast<const char*>(m->payload()), m->len()}));
      // For the `queued` stage: the producer's create time (Logic's clock, same host or NTP).
      auto ts = m->timestamp();
      if (ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME && ts.timestamp > 0)
        p->records.back().queued_us = ts.timestamp * 1000;
    } catch (const RecordCodecError& e) {
      // Skipping is the only way forward for bytes no version of roomcast wrote.
      spdlog::error("kafka: partition {} offset {}: {}; skipped", m->partition(), m->offset(),
                    e.what());
    }
  }
  return count;
}

void KafkaConsumer::handle_round(std::vector<GatheredPartition>& parts, int& failures) {
  if (parts.empty()) return;
  // The whole round in one handler call: one persist, one push round and one commit for all
  // its partitions, instead of one after the other (each partition's records stay in order).
  std::vector<QueueRecord> round;
  for (auto& p : parts) std::move(p.records.begin(), p.records.end(), std::back_inserter(round));
  auto started = metrics::wall_micros();
  for (auto& r : round)
    if (r.queued_us > 0) metrics::delivery_stage(DeliveryStage::kQueued, started - r.queued_us);
  try {
    if (!round.empty()) handler_(round);
  } catch (const std::exception& e) {
    // Not done: every partition of the round starts over from its batch.
    ++failures;
    metrics::kafka_error("consume");
    spdlog::error("kafka: a round of {} records from {} partitions failed (attempt {}): {}",
                  round.size(), parts.size(), failures, e.what());
    rewind(parts, 0);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(1000, 50 << std::min(failures, 5))));
    return;
  }
  metrics::delivery_stage(DeliveryStage::kJob, metrics::wall_micros() - started, round.size());
  failures = 0;
  commit(parts, !running_);  // the last round before stop() is committed before leaving
}

void KafkaConsumer::rewind(const std::vector<GatheredPartition>& parts, std::size_t from) {
  for (std::size_t j = from; j < parts.size(); ++j) {
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(options_.topic, parts[j].partition, parts[j].first_offset));
    auto code = consumer_->seek(*tp, 5000);
    if (code != RdKafka::ERR_NO_ERROR)
      spdlog::warn("kafka: seek partition {}: {}", parts[j].partition, RdKafka::err2str(code));
  }
}

void KafkaConsumer::commit(const std::vector<GatheredPartition>& parts, bool wait) {
  std::vector<RdKafka::TopicPartition*> offsets;
  for (auto& p : parts)
    offsets.push_back(
        RdKafka::TopicPartition::create(options_.topic, p.partition, p.last_offset + 1));
  // Asynchronous: the next round need not wait for the broker. A commit that fails or is lost
  // (the partition moved meanwhile, this Job died) only means redelivery to the next owner,
  // which Job's idempotency keys make harmless; failures are logged by the commit callback.
  auto code = wait ? consumer_->commitSync(offsets) : consumer_->commitAsync(offsets);
  RdKafka::TopicPartition::destroy(offsets);
  if (code != RdKafka::ERR_NO_ERROR)
    spdlog::warn("kafka: commit of {} partitions: {}", parts.size(), RdKafka::err2str(code));
}

}  // namespace roomcast
