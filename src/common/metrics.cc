#include "common/metrics.h"

#include <prometheus/text_serializer.h>

#include <array>
#include <limits>

#ifndef ROOMCAST_VERSION
#define ROOMCAST_VERSION "dev"
#endif

namespace roomcast {
namespace {

// Delivery latency spans a loaded loop's sub-millisecond fan-out to a stalled pipeline.
constexpr std::array<double, 13> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5};
// Waiting for a pooled connection or a blocking-pool thread: usually nothing, seconds when starved.
constexpr std::array<double, 12> kWaitBounds = {0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                0.05,    0.1,    0.25,   0.5,   1,     2.5};
constexpr std::array<const char*, 3> kPoolNames = {"mysql", "redis", "blocking"};
// The stages of a delivery: tens of microseconds on an idle path, seconds behind a backlog.
constexpr std::array<double, 15> kStageBounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                 0.0025,  0.005,  0.01,    0.025,  0.05,
                                                 0.1,     0.25,   0.5,     1,      2.5};
constexpr std::array<const char*, kDeliveryStages> kStageNames = {"queued", "job", "inbox",
                                                                  "write"};

prometheus::MetricFamily counter_family(std::string name, std::string help, double value) {
  prometheus::MetricFamily f{std::move(name), std::move(help), prometheus::MetricType::Counter, {}};
  prometheus::ClientMetric m;
  m.counter.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

prometheus::ClientMetric histogram_metric(const ShardedHistogram& h, prometheus::Labels labels) {
  auto snap = h.snapshot();
  prometheus::ClientMetric m;
  for (auto& [k, v] : labels) m.label.push_back({k, v});
  m.histogram.sample_count = snap.cumulative.back();
  m.histogram.sample_sum = snap.sum_seconds;
  for (std::size_t i = 0; i < snap.upper_bounds.size(); ++i)
    m.histogram.bucket.push_back({snap.cumulative[i], snap.upper_bounds[i]});
  m.histogram.bucket.push_back({snap.cumulative.back(), std::numeric_limits<double>::infinity()});
  return m;
}

}  // namespace

Metrics& Metrics::get() {
  static Metrics metrics;
  return metrics;
}

Metrics::Metrics()
    : delivery_latency(kLatencyBounds),
      closes_(prometheus::BuildCounter()
                  .Name("roomcast_closes_total")
                  .Help("WebSocket connections closed by the server or the client, by close code")
                  .Register(registry_)),
      rate_limited_(prometheus::BuildCounter()
                        .Name("roomcast_rate_limited_total")
                        .Help("requests refused by a rate or size limit, by what was limited")
                        .Register(registry_)),
      kafka_errors_(prometheus::BuildCounter()
                        .Name("roomcast_kafka_errors_total")
                        .Help("Kafka produce or consume failures")
                        .Register(registry_)),
      grpc_calls_(prometheus::BuildCounter()
                      .Name("roomcast_grpc_calls_total")
                      .Help("gRPC calls served, by method and status code")
                      .Register(registry_)),
      presence_transitions_(prometheus::BuildCounter()
                                .Name("roomcast_presence_transitions_total")
                                .Help("online/offline transitions produced to the presence topic, "
                                      "by direction and source (report, sweep)")
                                .Register(registry_)),
      build_info_(prometheus::BuildGauge()
                      .Name("roomcast_build_info")
                      .Help("1, labelled with the version, role and node id of this process")
                      .Register(registry_)),
      pool_waits_{ShardedHistogram(kWaitBounds), ShardedHistogram(kWaitBounds),
                  ShardedHistogram(kWaitBounds)},
      stages_{ShardedHistogram(kStageBounds), ShardedHistogram(kStageBounds),
              ShardedHistogram(kStageBounds), ShardedHistogram(kStageBounds)} {}

void Metrics::count_close(uint16_t code) {
  closes_.Add({{"code", std::to_string(code)}}).Increment();
}

void Metrics::count_rate_limited(std::string_view what) {
  rate_limited_.Add({{"what", std::string(what)}}).Increment();
}

void Metrics::count_kafka_error(std::string_view operation) {
  kafka_errors_.Add({{"operation", std::string(operation)}}).Increment();
}

void Metrics::count_grpc_call(std::string_view method, std::string_view code) {
  grpc_calls_.Add({{"method", std::string(method)}, {"code", std::string(code)}}).Increment();
}

void Metrics::count_presence_transition(bool online, std::string_view source) {
  presence_transitions_
      .Add({{"online", online ? "true" : "false"}, {"source", std::string(source)}})
      .Increment();
}

void Metrics::set_build_info(std::string_view role, std::string_view node) {
  build_info_
      .Add(
          {{"version", ROOMCAST_VERSION}, {"role", std::string(role)}, {"node", std::string(node)}})
      .Set(1);
}

Metrics::CollectorHandle::~CollectorHandle() {
  if (!m_) return;
  std::lock_guard lock(m_->collectors_mutex_);
  m_->collectors_.erase(it_);
}

Metrics::CollectorHandle Metrics::add_collector(MetricsCollector collector) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collector));
  return CollectorHandle(this, std::prev(collectors_.end()));
}

std::vector<prometheus::MetricFamily> Metrics::hot_path_families() const {
  std::vector<prometheus::MetricFamily> out;
  out.push_back(counter_family("roomcast_messages_accepted_total",
                               "chat messages accepted (handed to the queue)",
                               static_cast<double>(messages_accepted.value())));
  auto latency_count = delivery_latency.snapshot().cumulative.back();
  out.push_back(counter_family("roomcast_deliveries_total",
                               "messages written to a connection (one per recipient)",
                               static_cast<double>(latency_count)));
  prometheus::MetricFamily latency{"roomcast_delivery_latency_seconds",
                                   "time from acceptance to the write to a recipient's socket",
                                   prometheus::MetricType::Histogram,
                                   {histogram_metric(delivery_latency, {})}};
  out.push_back(std::move(latency));
  prometheus::MetricFamily waits{"roomcast_pool_wait_seconds",
                                 "time to obtain a pooled connection or a blocking-pool thread",
                                 prometheus::MetricType::Histogram,
                                 {}};
  for (std::size_t i = 0; i < kPoolNames.size(); ++i)
    waits.metric.push_back(histogram_metric(pool_waits_[i], {{"pool", kPoolNames[i]}}));
  out.push_back(std::move(waits));
  prometheus::MetricFamily stages{"roomcast_delivery_stage_seconds",
                                  "where a message waited on its way to the sockets: queued "
                                  "(queue and batch window), job, inbox (an I/O loop's), write "
                                  "(the loop's drain writing to every recipient)",
                                  prometheus::MetricType::Histogram,
                                  {}};
  for (std::size_t i = 0; i < stages_.size(); ++i)
    stages.metric.push_back(histogram_metric(stages_[i], {{"stage", kStageNames[i]}}));
  out.push_back(std::move(stages));
  return out;
}

prometheus::MetricFamily Metrics::gauge_family(
    std::string name, std::string help,
    const std::vector<std::pair<prometheus::Labels, double>>& samples) {
  prometheus::MetricFamily f{std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  for (auto& [labels, value] : samples) {
    prometheus::ClientMetric m;
    for (auto& [k, v] : labels) m.label.push_back({k, v});
    m.gauge.value = value;
    f.metric.push_back(std::move(m));
  }
  return f;
}

std::string Metrics::render() {
  auto families = registry_.Collect();
  for (auto& f : hot_path_families()) families.push_back(std::move(f));
  {
    std::lock_guard lock(collectors_mutex_);
    for (auto& collect : collectors_)
      for (auto& f : collect()) families.push_back(std::move(f));
  }
  return prometheus::TextSerializer().Serialize(families);
}

namespace metrics {

void messages_accepted(std::size_t n) {
  Metrics::get().messages_accepted.add(n);
}

// roomcast_deliveries_total is the latency histogram's count: one atomic add fewer.
void delivered(int64_t accepted_ms, int64_t now_us) {
  Metrics::get().delivery_latency.observe_micros(now_us - accepted_ms * 1000);
}

namespace {
thread_local int64_t drain_clock_us = 0;  // 0: no DeliveryClock in scope
}

DeliveryClock::DeliveryClock() {
  drain_clock_us = wall_micros();
}
DeliveryClock::~DeliveryClock() {
  drain_clock_us = 0;
}
int64_t delivery_micros() {
  return drain_clock_us ? drain_clock_us : wall_micros();
}

int64_t wall_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void pool_wait(PoolKind pool, std::chrono::steady_clock::duration waited) {
  Metrics::get().pool_wait(pool).observe_micros(
      std::chrono::duration_cast<std::chrono::microseconds>(waited).count());
}

void delivery_stage(DeliveryStage stage, int64_t micros, uint64_t count) {
  Metrics::get().delivery_stage(stage).observe_micros(micros, count);
}

void close_code(uint16_t code) {
  Metrics::get().count_close(code);
}
void rate_limited(std::string_view what) {
  Metrics::get().count_rate_limited(what);
}
void kafka_error(std::string_view operation) {
  Metrics::get().count_kafka_error(operation);
}
void presence_transition(bool online, std::string_view source) {
  Metrics::get().count_presence_transition(online, source);
}

}  // namespace metrics
}  // namespace roomcast
