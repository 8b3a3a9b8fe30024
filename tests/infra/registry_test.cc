// Discovery against a real Redis: nodes appear and leave, and a registry lost in Redis
// (FLUSHALL) does not make a resolver forget nodes that are slow to re-register.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "discovery/registry.h"
#include "test_env.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> ids(const Resolver& r) {
  std::vector<std::string> out;
  for (auto& n : r.nodes()) out.push_back(n.id);
  return out;
}

// Polls until the resolver lists exactly `want` or the deadline passes.
bool eventually(const Resolver& r, std::vector<std::string> want,
                std::chrono::milliseconds within = 3s) {
  std::sort(want.begin(), want.end());
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ids(r) == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ids(r) == want;
}

TEST(Resolver, SeesNodesJoinAndLeave) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  auto role = test::unique("role-");
  Resolver resolver(redis, role, 50, 1000);
  resolver.start();
  Registry a(redis, {role, "a", "127.0.0.1:1", "127.0.0.1:2", 0}, 900);
  Registry b(redis, {role, "b", "127.0.0.1:3", "127.0.0.1:4", 0}, 900);
  a.start();
  b.start();
  EXPECT_TRUE(eventually(resolver, {"a", "b"}));
  b.stop();  // a clean leave is seen at the next refresh, not after a TTL
  EXPECT_TRUE(eventually(resolver, {"a"}, 500ms));
  a.stop();
  resolver.stop();
}

// A node that was out of the registry (its entry removed by a Job that gave up on it, or
// expired while the process was frozen) learns it at its next heartbeat.
TEST(Registry, TellsANodeItWasOutOfTheRegistry) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  auto role = test::unique("role-");
  std::atomic<int> lost{0};
  Registry a(redis, {role, "a", "127.0.0.1:1", "", 0}, 900);  // beats every 300 ms
  a.set_on_lost([&] { ++lost; });
  a.start();
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(lost, 0);  // its own beats find the entry in place
  redis.command({"DEL", node_key(role, "a")}).check();
  for (int i = 0; i < 50 && lost == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(lost, 1);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(lost, 1);  // back in: told once
  a.stop();
}

TEST(Resolver, KeepsKnownNodesWhileTheyReRegisterAfterRedisLostItsData) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  auto role = test::unique("role-");
  Resolver resolver(redis, role, 50, 1500);
  resolver.start();
  Registry a(redis, {role, "a", "127.0.0.1:1", "", 0}, 900);  // beats every 300 ms
  a.start();
  // "slow" is a node whose next heartbeat is far off: written by hand, when the test says.
  auto register_slow = [&] {
    redis.pipeline({{"SET", node_key(role, "slow"), "127.0.0.1:9\t\t0", "PX", "60000"},
                    {"SADD", "rc:nodes:" + role, "slow"}});
  };
  register_slow();
  ASSERT_TRUE(eventually(resolver, {"a", "slow"}));

  redis.command({"FLUSHALL"}).check();
  // "a" is back within a beat; "slow" is not, but still listed during the grace period.
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(ids(resolver), (std::vector<std::string>{"a", "slow"}));
  // It re-registers: nothing changes for the readers.
  register_slow();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ids(resolver), (std::vector<std::string>{"a", "slow"}));
  std::this_thread::sleep_for(1500ms);  // past the first grace period
  EXPECT_EQ(ids(resolver), (std::vector<std::string>{"a", "slow"}));

  // A node that never comes back drops out once the grace period is over.
  redis.command({"FLUSHALL"}).check();
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(ids(resolver), (std::vector<std::string>{"a", "slow"}));
  EXPECT_TRUE(eventually(resolver, {"a"}, 3s));
  a.stop();
  resolver.stop();
}

}  // namespace
}  // namespace roomcast
