# Distributed mode: discovery (registry, routing in Redis), the gRPC services and clients between
# the layers, and the role mains (roomcast comet|logic|job). Needs the adapters of infra.cmake.
if(NOT TARGET roomcast_infra)
  message(STATUS "roomcast: no roomcast_infra target, distributed roles not built")
  return()
endif()

add_library(roomcast_rpc STATIC
  src/discovery/registry.cc
  src/discovery/routing.cc
  src/rpc/channel_pool.cc
  src/rpc/grpc_logic_client.cc
  src/rpc/logic_service.cc
  src/rpc/grpc_comet_gateway.cc
  src/rpc/comet_service.cc
)
target_link_libraries(roomcast_rpc PUBLIC roomcast_infra roomcast_proto)
