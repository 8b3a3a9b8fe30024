// `roomcast job`: the consumer role. The same Job as standalone (sequencing, persistence,
// dedup) over MySQL with the Redis history cache, fed by a Kafka consumer group, pushing to the
// comets over gRPC. Offsets are committed only after a batch is persisted and pushed.
#include <fmt/ostream.h>
#include <spdlog/spdlog.h>

#include "discovery/registry.h"
#include "discovery/routing.h"
#include "job/job.h"
#include "logic/rest_api.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "ops/node_ops.h"
#include "queue/kafka_queue.h"
#include "rpc/internal_tls.h"
#include "rpc/remote_comets.h"
#include "services.h"
#include "services/node.h"
#include "store/cached_store.h"
#include "store/mysql_presence_store.h"
#include "store/mysql_store.h"

namespace roomcast {

int run_job(const Config& config) {
  SignalWaiter signals;
  require_internal_secrets(config);
  auto id = node_id(config, "job");
  RedisClient redis(redis_options(config));
  MysqlPool pool(mysql_options(config));
  MysqlStore mysql(pool);
  CachedStore store(mysql, redis);
  Resolver comets(redis, "comet");
  comets.start();
  ChannelPool channels(load_internal_tls(config));
  RouteTable routes(redis);
  RemoteComets gateway(redis, comets, routes, channels, config.job_batch_window_ms);
  gateway.start();
  // Each sender's read position moves to its messages before they are pushed: in the same
  // transaction that stores them (the presence store creates the read_positions table).
  MysqlPresenceStore presence_store(pool);
  mysql.advance_senders_on_append();
  Job job(store, gateway);
  // Partitions that moved may have been written by another Job meanwhile: forget cached seqs.
  KafkaConsumer consumer(config, [&job] { job.reset(); });
  consumer.start([&job](std::span<const QueueRecord> batch) { job.handle_batch(batch); });
  Registry registry(redis, {"job", id, "", "", 0}, config.registry_ttl_ms);
  registry.start();

  // The operator listener: /metrics, /healthz, /readyz only.
  IoPool loops(1);
  asio::thread_pool blocking(1);
  HttpServer http(
      loops, blocking, nullptr,
      [](const HttpRequest&) { return api_error(404, "NOT_FOUND", "a job serves no API"); }, "",
      config);
  auto timeout = std::chrono::milliseconds(config.readiness_timeout_ms / 2);
  NodeOps ops(config, "job",
              {{"kafka", [&consumer, timeout] { return consumer.brokers_reachable(timeout); }},
               redis_probe(redis),
               mysql_probe(pool)});
  ops.collect_queue_lag([&consumer] { return consumer.partition_lag(); });
  ops.attach(http);
  ops.start();
  auto endpoint = http.listen(config.http_listen);
  loops.start();
  spdlog::info("roomcast job {} consuming {} as {} (operator endpoints on http://{})", id,
               config.kafka_topic, config.kafka_group, fmt::streamed(endpoint));

  int sig = signals.wait();
  spdlog::info("job {}: signal {}, shutting down", id, sig);
  ops.set_draining();
  http.stop_accepting();
  registry.stop();
  consumer.stop();  // finishes the batch in hand (persisted, pushed, committed)
  gateway.stop();
  comets.stop();
  loops.stop();
  loops.join();
  blocking.join();
  spdlog::info("job {}: stopped", id);
  return 0;
}

}  // namespace roomcast
