// Where the infra tests find their servers: the variables scripts/test-servers.sh writes to
// DIR/env (tests/infra/run.sh exports them). Tests skip when they are missing.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "store/mysql_pool.h"
#include "store/redis_client.h"

namespace roomcast::test {

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

inline bool have_servers() {
  return !env("ROOMCAST_REDIS").empty();
}

#define REQUIRE_SERVERS()                 \
  if (!::roomcast::test::have_servers())  \
  GTEST_SKIP() << "no test servers (use " \
                  "tests/infra/run.sh)"

inline RedisOptions redis_options() {
  return RedisOptions::from_address(env("ROOMCAST_REDIS"));
}

inline MysqlOptions mysql_options() {
  MysqlOptions o;
  o.host = env("ROOMCAST_MYSQL_HOST");
  o.port = std::atoi(env("ROOMCAST_MYSQL_PORT").c_str());
  o.user = env("ROOMCAST_MYSQL_USER");
  o.password = env("ROOMCAST_MYSQL_PASSWORD");
  o.database = env("ROOMCAST_MYSQL_DATABASE");
  return o;
}

// Runs scripts/test-servers.sh with a command (e.g. restart-mysql) on the test's servers.
inline int servers_script(const std::string& command) {
  std::string cmd = std::string(ROOMCAST_SOURCE_DIR) + "/scripts/test-servers.sh " + command + " " +
                    env("ROOMCAST_TEST_SERVERS") + " >/dev/null";
  return std::system(cmd.c_str());
}

inline std::string unique(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + std::to_string(rng() % 1000000000);
}

}  // namespace roomcast::test
