// The per-user connection limit across comets, against a real Redis: the oldest connection
// past the limit is named to its own comet, wherever the new one opened; and Logic's
// cluster-wide window counters.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "discovery/redis_user_connections.h"
#include "logic/redis_window_counters.h"
#include "test_env.h"

namespace roomcast {
namespace {

struct FakeComet {
  std::mutex mutex;
  std::vector<uint64_t> closed;
  std::function<void(uint64_t)> closer() {
    return [this](uint64_t c) {
      std::lock_guard lock(mutex);
      closed.push_back(c);
    };
  }
};

TEST(RedisUserConnections, TheOldestAnywhereGivesWay) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  auto prefix = test::unique("t:") + ":";
  FakeComet a_closed, b_closed;
  RedisUserConnections a(redis, "comet-a", 2, a_closed.closer(), std::chrono::milliseconds(50),
                         prefix);
  RedisUserConnections b(redis, "comet-b", 2, b_closed.closer(), std::chrono::milliseconds(50),
                         prefix);
  EXPECT_TRUE(a.opened(7, 1).empty());
  EXPECT_TRUE(a.opened(7, 2).empty());
  // The third, on comet b, displaces a's connection 1: b closes nothing itself, a learns it.
  EXPECT_TRUE(b.opened(7, 3).empty());
  b.poll_evictions();
  EXPECT_TRUE(b_closed.closed.empty());
  a.poll_evictions();
  EXPECT_EQ(a_closed.closed, std::vector<uint64_t>{1});
  a.poll_evictions();  // taken once
  EXPECT_EQ(a_closed.closed.size(), 1u);
  // A closed connection no longer counts; the oldest of one's own comes back directly.
  a.closed(7, 2);
  EXPECT_TRUE(b.opened(7, 4).empty());
  EXPECT_EQ(b.opened(7, 5), std::vector<uint64_t>{3});
  // Other users are counted apart.
  EXPECT_TRUE(a.opened(8, 9).empty());
}

TEST(RedisUserConnections, ZeroMeansNoLimit) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  FakeComet closed;
  RedisUserConnections a(redis, "comet-a", 0, closed.closer(), std::chrono::milliseconds(50),
                         test::unique("t:") + ":");
  for (uint64_t c = 1; c <= 50; ++c) EXPECT_TRUE(a.opened(1, c).empty());
}

TEST(RedisWindowCounters, CountsInOneWindowSharedByAllClients) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  RedisClient other(test::redis_options());
  auto prefix = test::unique("t:") + ":";
  RedisWindowCounters one(redis, prefix), two(other, prefix);
  auto first = one.add("create-room:1", 60000);
  EXPECT_EQ(first.count, 1);
  EXPECT_GT(first.window_left_ms, 59000);
  EXPECT_LE(first.window_left_ms, 60000);
  EXPECT_EQ(two.add("create-room:1", 60000).count, 2);
  EXPECT_EQ(one.add("create-room:2", 60000).count, 1);
  // A window ends: counting starts over.
  EXPECT_EQ(one.add("short", 50).count, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_EQ(two.add("short", 50).count, 1);
}

}  // namespace
}  // namespace roomcast
