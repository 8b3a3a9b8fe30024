// Counts every gRPC call a node serves by method and status code
// (roomcast_grpc_calls_total{method, code}); installed by start_grpc on every role's server.
#pragma once

#include <grpcpp/support/server_interceptor.h>

namespace roomcast {

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // Called by gRPC for each call, on the thread that starts it.
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace roomcast
