// What every distributed role does the same way: its id, its Redis and MySQL settings, its
// gRPC listener, and waiting for SIGTERM.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "ops/readiness.h"
#include "store/mysql_pool.h"
#include "store/redis_client.h"

namespace grpc {
class Service;
}

namespace roomcast {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards, so the
// signal is taken by wait() alone. Construct it first thing in a role's main.
class SignalWaiter {
 public:
  SignalWaiter();
  int wait();  // the signal number
};

std::string node_id(const Config& config, const std::string& role);
// Throws unless the internal secrets are configured (Redis password, internal TLS folder) or
// the node was started with insecure_internal: called first, before any connection is made.
void require_internal_secrets(const Config& config);
// The pool has room for every thread that may use Redis at once: the blocking pool and the gRPC
// server's handler threads (Logic answers Connect, Receive and History on them).
RedisOptions redis_options(const Config& config);
MysqlOptions mysql_options(const Config& config);

// Handler threads the synchronous gRPC server keeps polling (more start while all are busy).
inline constexpr int kGrpcServerThreads = 64;

// Starts a synchronous gRPC server on config.grpc_listen (port 0: any free port) and returns it
// with the address peers should use (advertise_host:bound port).
struct GrpcServer {
  std::unique_ptr<grpc::Server> server;
  std::string address;
};
GrpcServer start_grpc(const Config& config, const std::vector<grpc::Service*>& services);

// Readiness probes of the shared dependencies: a PING, a pooled connection's ping.
ReadinessProbe redis_probe(RedisClient& redis);
ReadinessProbe mysql_probe(MysqlPool& pool);

// "advertise_host:port" for a bound listener.
std::string advertised(const Config& config, unsigned short port);

}  // namespace roomcast
