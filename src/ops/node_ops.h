// The operator side of one node, the same for every role: roomcast_build_info, the readiness
// monitor over the role's probes, the collectors of its gauges, and the endpoints (/metrics,
// /healthz, /readyz) its HTTP listener serves. Declare it after what its probes and collectors
// read (it is destroyed first) and construct, attach and start it from the role's main thread.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/metrics.h"
#include "net/http_server.h"
#include "ops/ops_endpoints.h"
#include "ops/readiness.h"

namespace roomcast {

class Comet;

class NodeOps {
 public:
  NodeOps(const Config& config, const std::string& role, std::vector<ReadinessProbe> probes);
  ~NodeOps();

  void attach(HttpServer& http) { http.serve_ops(&endpoints_); }
  void start() { readiness_.start(); }
  // /readyz answers 503 "draining" from now on.
  void set_draining() { readiness_.set_draining(); }

  void add_collector(MetricsCollector collector);
  // roomcast_connections and the presence counts of a node holding connections.
  void collect_connections(Comet& comet);
  // roomcast_queue_lag{partition} from `lag()` (partition -> records not yet handled).
  void collect_queue_lag(std::function<std::vector<std::pair<int32_t, int64_t>>()> lag);

 private:
  ReadinessMonitor readiness_;
  OpsEndpoints endpoints_;
  std::vector<Metrics::CollectorHandle> collectors_;
};

}  // namespace roomcast
