// `roomcast comet`: the gateway role. Holds WebSocket connections (the same Comet as
// standalone), asks a Logic over gRPC for everything else, proxies /api/* to Logic, serves
// pushes from Job over gRPC, and announces itself and its routes in Redis.
#include <fmt/ostream.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

#include "comet/comet.h"
#include "discovery/cluster_presence.h"
#include "discovery/redis_user_connections.h"
#include "discovery/registry.h"
#include "discovery/routing.h"
#include "domain/close_codes.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "ops/node_ops.h"
#include "rpc/comet_service.h"
#include "rpc/grpc_logic_client.h"
#include "rpc/grpc_notice_relay.h"
#include "rpc/internal_tls.h"
#include "services.h"
#include "services/node.h"
#include "web_root.h"

namespace roomcast {

namespace {
// After a signal: not ready, no new connections; on SIGTERM the clients leave over the drain
// window (1012, reconnect elsewhere) while pushes still reach the ones not closed yet, so the
// registry entry stays until they are gone.
void stop_serving(int sig, const std::string& id, const Config& config, NodeOps& ops,
                  HttpServer& http, Comet& comet) {
  spdlog::info("comet {}: signal {}, shutting down", id, sig);
  ops.set_draining();
  http.stop_accepting();
  if (sig != SIGTERM) return;
  spdlog::info("comet {}: draining {} connections over {} ms", id, comet.connection_count(),
               config.drain_window_ms);
  comet.drain_connections(std::chrono::milliseconds(config.drain_window_ms));
}

GrpcLogicClient::BatchOptions batch_options(const Config& config) {
  return {static_cast<std::size_t>(config.comet_post_batch_max),
          static_cast<std::size_t>(config.comet_post_calls)};
}

// Member lists show users online on any comet: the other comets' reports in Redis.
void set_cluster_online(Comet& comet, RedisClient& redis, const Config& config) {
  comet.set_cluster_online(
      [&redis, ttl = std::chrono::milliseconds(config.registry_ttl_ms)](
          const std::vector<int64_t>& ids) { return cluster_users_online(redis, ttl, ids); });
}
}  // namespace

int run_comet(const Config& config) {
  SignalWaiter signals;
  require_internal_secrets(config);
  auto id = node_id(config, "comet");
  RedisClient redis(redis_options(config));
  Resolver logics(redis, "logic");
  logics.start();
  ChannelPool channels(load_internal_tls(config));
  GrpcLogicClient logic(logics, channels, id, batch_options(config));

  IoPool loops(config.io_threads);
  // Here the "blocking" work is waiting on Logic over gRPC: 8 threads capped a comet near
  // 1,000 requests/s (cluster S4 at 2,000 msg/s fell behind; with 32, 0 lost, p99 0.4 s).
  asio::thread_pool blocking(static_cast<std::size_t>(std::max(1, config.comet_rpc_threads)));
  Comet comet(loops, blocking, logic, config);
  comet.set_presence_api(&logic);    // read positions and member lists are stored by Logic
  GrpcNoticeRelay relay(logic, id);  // typing, read state and presence for the other comets
  comet.set_notice_relay(&relay);
  set_cluster_online(comet, redis, config);
  RouteRegistry routes(redis, id, comet);
  comet.set_route_listener(&routes);
  // The presence topic: this comet's users go to Logic once per report period.
  HoldingsOutbox holdings([&logic](bool full, const HoldingsOutbox::Holdings& users) {
    return logic.report_users(full, users);
  });
  ClusterPresence cluster_presence(redis, id, comet.presence_tracker(),
                                   std::chrono::milliseconds(config.presence.window_ms),
                                   std::chrono::milliseconds(config.registry_ttl_ms),
                                   std::chrono::milliseconds(config.presence.grace_ms));
  cluster_presence.set_outbox(&holdings);
  comet.set_remote_room_counts(&cluster_presence);
  RedisUserConnections user_connections(
      redis, id, config.limits.connections_per_user_max, [&comet](uint64_t conn) {
        comet.close_connection(conn, close_code::kTooManyConnections,
                               close_reason::kTooManyConnections);
      });
  comet.set_cluster_connections(&user_connections);
  HttpServer http(
      loops, blocking, comet, [&logic](const HttpRequest& r) { return logic.rest(r); },
      find_web_root(config.web_root), config);
  // Ready while some Logic is registered: without one a comet can authenticate nobody.
  NodeOps ops(config, "comet", {{"logic", [&logics] { return !logics.nodes().empty(); }}});
  ops.collect_connections(comet);
  ops.attach(http);
  ops.start();
  auto endpoint = http.listen(config.listen);
  CometService service(comet);
  auto rpc = start_grpc(config, {&service});
  loops.start();
  routes.start();
  cluster_presence.start();
  relay.start();
  user_connections.start();
  NodeInfo self{"comet", id, rpc.address, advertised(config, endpoint.port()), 0};
  Registry registry(redis, self, config.registry_ttl_ms,
                    [&comet] { return static_cast<int64_t>(comet.connection_count()); });
  // Out of the registry, this comet was skipped by Job: no live stream may jump the hole.
  registry.set_on_lost([&comet] { comet.check_tails(); });
  registry.start();
  spdlog::info("roomcast comet {} listening on http://{} (gRPC {})", id, fmt::streamed(endpoint),
               rpc.address);

  stop_serving(signals.wait(), id, config, ops, http, comet);
  // Leave the registry so Job stops routing here, then close what is left with 1001 (clients
  // reconnect to another comet and resume), then stop serving.
  registry.stop();
  comet.shutdown();
  relay.stop();
  user_connections.stop();
  routes.stop();
  cluster_presence.stop();
  rpc.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let close frames go out
  loops.stop();
  loops.join();
  blocking.join();
  logics.stop();
  spdlog::info("comet {}: stopped", id);
  return 0;
}

}  // namespace roomcast
