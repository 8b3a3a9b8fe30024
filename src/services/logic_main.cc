// `roomcast logic`: the business role. The same Logic as standalone over MySQL (with the Redis
// history cache), Redis sessions and a Kafka producer; serves comets over gRPC and REST (the
// API of docs/protocol.md, including the admin push API) on its own listener behind the balancer.
#include <fmt/ostream.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "discovery/cluster_presence.h"
#include "discovery/registry.h"
#include "logic/logic.h"
#include "logic/presence_epochs.h"
#include "logic/presence_rest.h"
#include "logic/presence_service.h"
#include "logic/presence_topic.h"
#include "logic/redis_failed_logins.h"
#include "logic/redis_window_counters.h"
#include "logic/rest_api.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "ops/node_ops.h"
#include "queue/kafka_event_producer.h"
#include "queue/kafka_queue.h"
#include "rpc/logic_service.h"
#include "services.h"
#include "services/node.h"
#include "store/cached_store.h"
#include "store/mysql_presence_store.h"
#include "store/mysql_store.h"
#include "store/redis_session_store.h"
#include "web_root.h"

namespace roomcast {

namespace {
// The online/offline topic (none when kafka_presence_topic is empty). Sweeps every presence
// window; a comet counts as gone after the registry TTL plus the grace.
struct PresenceTopicParts {
  std::unique_ptr<PresenceEpochs> epochs;
  std::unique_ptr<KafkaEventProducer> producer;
  std::unique_ptr<PresenceTopic> topic;
  PresenceTopic* get() const { return topic.get(); }
};

PresenceTopicParts start_presence_topic(const Config& config, RedisClient& redis) {
  PresenceTopicParts parts;
  if (config.kafka_presence_topic.empty()) return parts;
  auto options = KafkaOptions::from_config(config);
  options.topic = config.kafka_presence_topic;
  parts.epochs = std::make_unique<PresenceEpochs>(redis);
  parts.producer = std::make_unique<KafkaEventProducer>(options);
  parts.topic = std::make_unique<PresenceTopic>(
      *parts.epochs,
      [producer = parts.producer.get()](const std::string& key, const std::string& value) {
        producer->send(key, value);
      },
      std::chrono::milliseconds(config.presence.window_ms),
      std::chrono::milliseconds(config.registry_ttl_ms + config.presence.grace_ms));
  parts.topic->start();
  return parts;
}
}  // namespace

int run_logic(const Config& config) {
  SignalWaiter signals;
  require_internal_secrets(config);
  auto id = node_id(config, "logic");
  RedisClient redis(redis_options(config));
  MysqlPool pool(mysql_options(config));
  MysqlStore mysql(pool);
  CachedStore store(mysql, redis);
  MysqlPresenceStore presence_store(pool);
  PresenceService presence(config, store, presence_store);
  RedisSessionStore sessions(redis);
  KafkaProducer producer(config);
  Logic logic(config, store, sessions, producer);
  RedisWindowCounters counters(redis);
  logic.share_counters(counters);
  logic.init_default_rooms();
  // Failed logins are counted in Redis: an attacker cannot spread guesses over the logics.
  RestApi rest(logic, config,
               std::make_unique<RedisFailedLogins>(redis, config.limits.failed_logins_per_min,
                                                   std::chrono::milliseconds(60000)));
  auto ttl = std::chrono::milliseconds(config.registry_ttl_ms);
  PresenceRestApi presence_rest(
      config,
      {[&redis, ttl](int64_t id) { return cluster_user_presence(redis, ttl, id); },
       [&redis, ttl](const std::string& room) { return cluster_room_online(redis, ttl, room); }});
  rest.set_extension([&presence_rest](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (!PresenceRestApi::handles(r.path)) return std::nullopt;
    return presence_rest.handle(r);
  });

  IoPool loops(std::max(1, config.io_threads == 0 ? 2 : config.io_threads));
  asio::thread_pool blocking(static_cast<std::size_t>(std::max(1, config.blocking_threads)));
  HttpServer http(
      loops, blocking, nullptr, [&rest](const HttpRequest& r) { return rest.handle(r); },
      find_web_root(config.web_root), config);
  http.finish_hashes_on(rest.password_pool());
  NodeOps ops(config, "logic", {redis_probe(redis), mysql_probe(pool)});
  ops.attach(http);
  ops.start();
  auto endpoint = http.listen(config.logic_http_listen);
  LogicService service(logic, rest, presence);
  auto presence_topic = start_presence_topic(config, redis);
  service.set_presence_topic(presence_topic.get());
  auto rpc = start_grpc(config, {&service});
  loops.start();
  NodeInfo self{"logic", id, rpc.address, advertised(config, endpoint.port()), 0};
  Registry registry(redis, self, config.registry_ttl_ms);
  registry.start();
  spdlog::info("roomcast logic {} REST on http://{} (gRPC {})", id, fmt::streamed(endpoint),
               rpc.address);

  int sig = signals.wait();
  spdlog::info("logic {}: signal {}, shutting down", id, sig);
  ops.set_draining();
  // Leave the registry first so comets pick another Logic, finish calls in flight, then let
  // the producer deliver what it accepted.
  registry.stop();
  http.stop_accepting();
  rpc.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  loops.stop();
  loops.join();
  blocking.join();
  spdlog::info("logic {}: stopped", id);
  return 0;
}

}  // namespace roomcast
