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
# Generated code is not ours to fix: keep its warnings from failing the build (-Werror).
target_compile_options(roomcast_proto PRIVATE -Wno-error -Wno-unused-parameter)

add_library(roomcast_infra STATIC
  src/store/redis_client.cc
)
target_include_directories(roomcast_infra PUBLIC src)
target_link_libraries(roomcast_infra PUBLIC
  roomcast_core roomcast_proto PkgConfig::HIREDIS PkgConfig::MARIADB PkgConfig::RDKAFKA)
