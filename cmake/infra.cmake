# Distributed-mode adapters: MySQL (MariaDB Connector/C), Redis (hiredis), Kafka (librdkafka),
# the protobuf/gRPC contracts in proto/, the Kafka mock cluster used by tests and local
# clusters, and the infra tests (which start real redis-server/mariadbd and the mock).

find_package(Protobuf REQUIRED)     # FindProtobuf module (no config package on Debian)
find_package(gRPC CONFIG REQUIRED)  # gRPC::grpc++, gRPC::grpc_cpp_plugin
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(MARIADB REQUIRED IMPORTED_TARGET libmariadb)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka++ rdkafka)

# Every proto/*.proto becomes one library; generated headers are included as "queue.pb.h",
# "comet.grpc.pb.h", ... (the binary dir's proto/ folder is on the include path). Dropping a new
# .proto file in needs a re-configure (the glob is evaluated at configure time).
file(GLOB ROOMCAST_PROTO_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/proto/*.proto)
add_library(roomcast_proto STATIC ${ROOMCAST_PROTO_FILES})
target_link_libraries(roomcast_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
target_include_directories(roomcast_proto PUBLIC ${CMAKE_CURRENT_BINARY_DIR}/proto)
set(ROOMCAST_PROTO_OUT ${CMAKE_CURRENT_BINARY_DIR}/proto)
file(MAKE_DIRECTORY ${ROOMCAST_PROTO_OUT})
protobuf_generate(TARGET roomcast_proto LANGUAGE cpp APPEND_PATH
  PROTOC_OUT_DIR ${ROOMCAST_PROTO_OUT})
protobuf_generate(TARGET roomcast_proto LANGUAGE grpc APPEND_PATH
  PROTOC_OUT_DIR ${ROOMCAST_PROTO_OUT}
  GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
  PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
# Generated code compiles cleanly with the project's warnings (-Werror); should a protoc upgrade
# change that, relax warnings on this target only (target_compile_options PRIVATE -Wno-error).

add_library(roomcast_infra STATIC
  src/store/redis_client.cc
  src/store/redis_keys.cc
  src/store/redis_session_store.cc
  src/logic/redis_failed_logins.cc
  src/store/mysql_pool.cc
  src/store/mysql_store.cc
  src/store/mysql_presence_store.cc
  src/store/cached_store.cc
  src/store/cache_codec.cc
  src/logic/redis_window_counters.cc
  src/domain/message_wire.cc
  src/queue/record_codec.cc
  src/queue/kafka_queue.cc
  src/queue/kafka_event_producer.cc
  src/queue/kafka_consumer_ops.cc
)
target_include_directories(roomcast_infra PUBLIC src)
target_link_libraries(roomcast_infra PUBLIC
  roomcast_core roomcast_proto PkgConfig::HIREDIS PkgConfig::MARIADB PkgConfig::RDKAFKA)

# librdkafka's mock cluster as a process (tests, local clusters without Kafka).
add_executable(roomcast-kafka-mock src/tools/kafka_mock.cc)
target_link_libraries(roomcast-kafka-mock PRIVATE PkgConfig::RDKAFKA)

# An example consumer of the presence topic (the epoch rule); the cluster tests read with it.
add_executable(roomcast-presence-consumer src/tools/presence_consumer.cc)
target_link_libraries(roomcast-presence-consumer PRIVATE PkgConfig::RDKAFKA Boost::json)

# Infra tests against real servers: tests/infra/run.sh starts redis-server, mariadbd and the
# Kafka mock in a temporary directory (scripts/test-servers.sh), runs infra_tests, stops them.
if(BUILD_TESTING)
  find_package(GTest REQUIRED)
  add_executable(infra_tests
    tests/infra/redis_test.cc
    tests/infra/mysql_store_test.cc
    tests/infra/mysql_presence_store_test.cc
    tests/infra/cached_store_test.cc
    tests/infra/kafka_test.cc
    tests/infra/pipeline_test.cc
  )
  target_link_libraries(infra_tests PRIVATE roomcast_infra GTest::gtest_main)
  target_include_directories(infra_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
  target_compile_definitions(infra_tests PRIVATE ROOMCAST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
  add_test(NAME infra
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/infra/run.sh $<TARGET_FILE:infra_tests>
            $<TARGET_FILE:roomcast-kafka-mock>)
  set_tests_properties(infra PROPERTIES TIMEOUT 300 LABELS infra)
endif()
