// The process's Prometheus metrics. One process runs one role (or all of them, standalone), so
// one process-wide set is enough and every layer reaches it without threading a handle through
// its constructors. prometheus-cpp's core library keeps the labelled families and writes the
// text format; the counters of the hot path are sharded per thread (common/sharded_metrics.h)
// and become families only when scraped. Figures that already live elsewhere (connections,
// queue lag, presence) are read at scrape time by collectors the roles register.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics_events.h"
#include "common/sharded_metrics.h"

namespace roomcast {

// Produces families at scrape time (gauges read from their owner).
using MetricsCollector = std::function<std::vector<prometheus::MetricFamily>()>;

class Metrics {
 public:
  static Metrics& get();

  // The hot path: any thread, no lock.
  ShardedCounter messages_accepted;
  // Accepted by Logic -> written to a recipient's socket; its count is deliveries_total.
  ShardedHistogram delivery_latency;
  ShardedHistogram& pool_wait(PoolKind kind) { return pool_waits_[static_cast<int>(kind)]; }
  ShardedHistogram& delivery_stage(DeliveryStage s) { return stages_[static_cast<int>(s)]; }

  // Rarer events (per connection or per failure): labelled counters. Any thread.
  void count_close(uint16_t code);
  void count_rate_limited(std::string_view what);
  void count_kafka_error(std::string_view operation);  // "produce" | "consume"
  void count_grpc_call(std::string_view method, std::string_view code);
  // Logic: a transition handed to the presence topic; source "report" | "sweep".
  void count_presence_transition(bool online, std::string_view source);

  // Sets roomcast_build_info{version, role, node} = 1. Call once at start.
  void set_build_info(std::string_view role, std::string_view node);

  // Registers a collector run by every scrape until the returned handle is destroyed. Destroy
  // the handle before what the collector reads. Any thread.
  class CollectorHandle {
   public:
    CollectorHandle() = default;
    CollectorHandle(Metrics* m, std::list<MetricsCollector>::iterator it) : m_(m), it_(it) {}
    CollectorHandle(CollectorHandle&& o) noexcept : m_(std::exchange(o.m_, nullptr)), it_(o.it_) {}
    CollectorHandle& operator=(CollectorHandle&&) = delete;
    ~CollectorHandle();

   private:
    Metrics* m_ = nullptr;
    std::list<MetricsCollector>::iterator it_;
  };
  [[nodiscard]] CollectorHandle add_collector(MetricsCollector collector);

  // The text exposition format (version 0.0.4) of everything. Any thread.
  std::string render();

  // A gauge family of one sample per label set, for collectors.
  static prometheus::MetricFamily gauge_family(
      std::string name, std::string help,
      const std::vector<std::pair<prometheus::Labels, double>>& samples);

 private:
  Metrics();
  std::vector<prometheus::MetricFamily> hot_path_families() const;

  prometheus::Registry registry_;
  prometheus::Family<prometheus::Counter>& closes_;
  prometheus::Family<prometheus::Counter>& rate_limited_;
  prometheus::Family<prometheus::Counter>& kafka_errors_;
  prometheus::Family<prometheus::Counter>& grpc_calls_;
  prometheus::Family<prometheus::Counter>& presence_transitions_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  std::array<ShardedHistogram, 3> pool_waits_;            // by PoolKind
  std::array<ShardedHistogram, kDeliveryStages> stages_;  // by DeliveryStage
  std::mutex collectors_mutex_;
  std::list<MetricsCollector> collectors_;
};

}  // namespace roomcast
