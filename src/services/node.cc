#include "services/node.h"

#include <arpa/inet.h>
#include <grpcpp/server_builder.h>
#include <netdb.h>
#include <signal.h>
#include <unistd.h>

#include <stdexcept>

#include "common/ids.h"
#include "net/http_server.h"
#include "rpc/internal_tls.h"
#include "rpc/metrics_interceptor.h"

namespace roomcast {

SignalWaiter::SignalWaiter() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int SignalWaiter::wait() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

std::string node_id(const Config& config, const std::string& role) {
  return config.node_id.empty() ? role + "-" + random_hex(4) : config.node_id;
}

void require_internal_secrets(const Config& config) {
  if (config.redis_password.empty() && !config.insecure_internal)
    throw std::runtime_error(
        "no Redis password (ROOMCAST_REDIS_PASSWORD); start with --insecure-internal 1 to run "
        "against an open Redis");
  load_internal_tls(config);  // throws without the TLS folder unless insecure_internal
}

RedisOptions redis_options(const Config& config) {
  auto o = RedisOptions::from_address(config.redis);
  // Sized for the blocking pool alone (12), Logic's gRPC threads queued for connections under
  // load past the pool's wait, and a failed membership-cache bump served a stale entry
  // (NOT_MEMBER right after a join). Connections open only when needed.
  o.pool_max = std::max(4, config.blocking_threads + 4) + kGrpcServerThreads;
  o.user = config.redis_user;
  o.password = config.redis_password;
  return o;
}

MysqlOptions mysql_options(const Config& config) {
  return MysqlOptions(config);
}

std::string advertised(const Config& config, unsigned short port) {
  std::string host = config.advertise_host;
  if (host == "auto") {
    // Containers: the address this host name resolves to (the container's own IP).
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    addrinfo hints{};
    hints.ai_family = AF_INET;
    addrinfo* found = nullptr;
    if (getaddrinfo(name, nullptr, &hints, &found) != 0 || !found)
      throw std::runtime_error(std::string("advertise_host=auto: cannot resolve ") + name);
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, ip, sizeof ip);
    freeaddrinfo(found);
    host = ip;
  }
  return host + ":" + std::to_string(port);
}

GrpcServer start_grpc(const Config& config, const std::vector<grpc::Service*>& services) {
  auto [host, port] = split_host_port(config.grpc_listen);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(host + ":" + std::to_string(port),
                           server_credentials(load_internal_tls(config)), &bound);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  // Peers ping to notice a vanished node; allow it without calls in flight.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // The synchronous server starts a thread when its pollers are all busy and ends it when more
  // than MAX_POLLERS are idle: under steady load that churns threads (stacks, arenas, futexes).
  // One completion queue and room for the threads a busy node needs keep them alive instead.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              kGrpcServerThreads);
  for (auto* s : services) builder.RegisterService(s);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<MetricsInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  auto server = builder.BuildAndStart();
  if (!server || bound == 0)
    throw std::runtime_error("cannot listen for gRPC on " + config.grpc_listen);
  return {std::move(server), advertised(config, static_cast<unsigned short>(bound))};
}

ReadinessProbe redis_probe(RedisClient& redis) {
  return {"redis", [&redis] { return redis.ping(); }};
}

ReadinessProbe mysql_probe(MysqlPool& pool) {
  return {"mysql", [&pool] { return pool.acquire()->ping(); }};
}

}  // namespace roomcast
