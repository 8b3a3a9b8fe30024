// Routes against a real Redis (discovery/routing.h, the key schema in store/redis_keys.h): a
// comet's announcement names it in the room's and the user's route, each comet's entry expires
// on its own, and what Job reads never lists an expired entry.
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <thread>

#include "comet/comet.h"
#include "common/config.h"
#include "discovery/routing.h"
#include "fakes/unused_logic_api.h"
#include "net/io_pool.h"
#include "test_env.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using Names = std::vector<std::string>;

struct IdleComet {
  Config config;
  IoPool loops{1};
  asio::thread_pool blocking{1};
  // The comet behind a RouteRegistry only lists its local rooms and users (none here).
  test::UnusedLogicApi logic;
  Comet comet{loops, blocking, logic, config};
};

// Polls `read` until it returns `want` or 3 s pass.
template <class Read>
bool eventually(Read read, const Names& want) {
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read() == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return read() == want;
}

TEST(Routing, EachCometsEntryNamesItAndExpiresOnItsOwn) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  IdleComet idle;
  auto room = test::unique("room-");
  auto user = static_cast<int64_t>(std::stoll(test::unique("")));
  auto a = test::unique("comet-a-"), b = test::unique("comet-b-");
  RouteRegistry short_lived(redis, a, idle.comet, 300);
  RouteRegistry long_lived(redis, b, idle.comet, 30000);
  short_lived.rooms_subscribed({room});
  long_lived.rooms_subscribed({room});
  short_lived.user_connected(user);

  RouteTable table(redis);
  EXPECT_EQ(table.rooms({room, test::unique("nobody-")}), (std::vector<Names>{{a, b}, {}}));
  EXPECT_EQ(table.users({user}), (std::vector<Names>{{a}}));
  // The key outlives its newest entry, then goes too: abandoned rooms leave nothing behind.
  auto pttl = redis.command({"PTTL", room_route_key(room)}).integer;
  EXPECT_GT(pttl, 30000);
  EXPECT_LE(pttl, 60000);

  // Nobody refreshes a's entries: they drop out alone, b's stays.
  EXPECT_TRUE(eventually([&] { return table.rooms({room})[0]; }, {b}));
  EXPECT_TRUE(eventually([&] { return table.users({user})[0]; }, {}));
  EXPECT_EQ(redis.command({"ZCARD", room_route_key(room)}).integer, 2)
      << "an expired entry is skipped by readers; the comet's own reconciliation removes it";
}

}  // namespace
}  // namespace roomcast
