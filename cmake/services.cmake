# Distributed mode: discovery (registry, routing in Redis), the gRPC services and clients between
# the layers, and the role mains (roomcast comet|logic|job). Needs the adapters of infra.cmake.
if(NOT TARGET roomcast_infra)
  message(STATUS "roomcast: no roomcast_infra target, distributed roles not built")
  return()
endif()

add_library(roomcast_services STATIC
  src/discovery/known_nodes.cc
  src/discovery/registry.cc
  src/discovery/route_epoch.cc
  src/discovery/routing.cc
  src/discovery/cluster_presence.cc
  src/discovery/holdings_outbox.cc
  src/logic/presence_epochs.cc
  src/discovery/redis_user_connections.cc
  src/rpc/channel_pool.cc
  src/rpc/internal_tls.cc
  src/rpc/grpc_logic_client.cc
  src/rpc/logic_batch_call.cc
  src/rpc/logic_batcher.cc
  src/rpc/grpc_logic_presence.cc
  src/rpc/logic_service.cc
  src/rpc/logic_service_presence.cc
  src/logic/presence_topic.cc
  src/rpc/logic_relay.cc
  src/rpc/grpc_notice_relay.cc
  src/rpc/remote_comets.cc
  src/rpc/comet_service.cc
  src/rpc/metrics_interceptor.cc
  src/services/node.cc
  src/services/comet_main.cc
  src/services/logic_main.cc
  src/services/job_main.cc
)
target_link_libraries(roomcast_services PUBLIC roomcast_infra roomcast_proto)

# Discovery against a real Redis runs with the other infra tests.
if(TARGET infra_tests)
  target_sources(infra_tests PRIVATE tests/infra/registry_test.cc tests/infra/routing_test.cc
    tests/infra/channel_pool_test.cc
    tests/infra/user_connections_test.cc tests/infra/presence_epochs_test.cc)
  target_link_libraries(infra_tests PRIVATE roomcast_services)
endif()

# The cluster suite (tests/cluster): deploy/local-cluster.sh on free ports, then the protocol
# suite through nginx and the fault tests. About 5-10 minutes; release builds only (under the
# sanitizers the fleet of 6 instrumented processes does not fit the time budget).
if((NOT DEFINED BUILD_TESTING OR BUILD_TESTING) AND NOT ROOMCAST_SANITIZE)
  enable_testing()  # include(CTest) comes after this file in CMakeLists.txt
  find_program(ROOMCAST_NODE node)
  if(ROOMCAST_NODE)
    add_test(NAME cluster
      COMMAND ${ROOMCAST_NODE} --test --test-concurrency=1 --test-reporter=spec cluster/
      WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/tests)
    set_tests_properties(cluster PROPERTIES LABELS cluster TIMEOUT 900 RUN_SERIAL ON
      ENVIRONMENT "ROOMCAST_BIN=$<TARGET_FILE:roomcast>;KAFKA_MOCK=$<TARGET_FILE:roomcast-kafka-mock>")
    # The web client in headless Chromium through the same local cluster's entry point.
    add_test(NAME e2e_cluster
      COMMAND ${ROOMCAST_NODE} --test --test-concurrency=1 --test-reporter=spec e2e-cluster/
      WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/tests)
    set_tests_properties(e2e_cluster PROPERTIES LABELS "cluster;e2e" TIMEOUT 300 RUN_SERIAL ON
      ENVIRONMENT "ROOMCAST_BIN=$<TARGET_FILE:roomcast>;KAFKA_MOCK=$<TARGET_FILE:roomcast-kafka-mock>")
  endif()
endif()
