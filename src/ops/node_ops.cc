#include "ops/node_ops.h"

#include "comet/comet.h"

namespace roomcast {

NodeOps::NodeOps(const Config& config, const std::string& role, std::vector<ReadinessProbe> probes)
    : readiness_(std::move(probes), std::chrono::milliseconds(1000),
                 std::chrono::milliseconds(config.readiness_timeout_ms)),
      endpoints_(config.metrics_token, &readiness_) {
  Metrics::get().set_build_info(role, config.node_id);
}

// The collectors read objects destroyed after this: unregister them first, then stop probing.
NodeOps::~NodeOps() {
  collectors_.clear();
  readiness_.stop();
}

void NodeOps::add_collector(MetricsCollector collector) {
  collectors_.push_back(Metrics::get().add_collector(std::move(collector)));
}

void NodeOps::collect_connections(Comet& comet) {
  add_collector([&comet] {
    std::vector<prometheus::MetricFamily> out;
    out.push_back(Metrics::gauge_family("roomcast_connections", "open WebSocket connections",
                                        {{{}, static_cast<double>(comet.connection_count())}}));
    auto presence = comet.presence_tracker().totals();
    out.push_back(Metrics::gauge_family(
        "roomcast_presence_users",
        "users online on this node (connected, or reconnecting within the presence grace)",
        {{{}, static_cast<double>(presence.users)}}));
    out.push_back(Metrics::gauge_family("roomcast_presence_rooms",
                                        "rooms with at least one member online on this node",
                                        {{{}, static_cast<double>(presence.rooms)}}));
    return out;
  });
}

void NodeOps::collect_queue_lag(std::function<std::vector<std::pair<int32_t, int64_t>>()> lag) {
  add_collector([lag = std::move(lag)] {
    std::vector<std::pair<prometheus::Labels, double>> samples;
    for (auto [partition, records] : lag())
      samples.push_back({{{"partition", std::to_string(partition)}}, static_cast<double>(records)});
    return std::vector{Metrics::gauge_family(
        "roomcast_queue_lag", "records of a queue partition not yet handled by Job", samples)};
  });
}

}  // namespace roomcast
