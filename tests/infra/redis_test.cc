#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "store/redis_client.h"
#include "store/redis_session_store.h"
#include "test_env.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using test::unique;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(RedisClient, BinarySafeCommandsAndPipeline) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  std::string key = unique("t:bin:");
  std::string value("a\0b %s\r\n", 8);  // NUL, format specifiers and CRLF pass through untouched
  redis.command({"SET", key, value}).check();
  EXPECT_EQ(redis.command({"GET", key}).string(), value);
  EXPECT_TRUE(redis.command({"GET", key + ":missing"}).is_nil());
  auto replies = redis.pipeline({{"DEL", key}, {"INCR", key}, {"INCR", key}, {"LPUSH", key, "x"}},
                                true, RedisErrorReplies::kReturn);
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[2].integer, 2);
  EXPECT_TRUE(replies[3].is_error());  // WRONGTYPE comes back as a reply when asked for
  EXPECT_THROW(replies[3].check(), RedisError);
}

TEST(RedisClient, ErrorRepliesThrowUnlessAskedFor) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  std::string key = unique("t:err:");
  redis.command({"SET", key, "text"});
  EXPECT_THROW(redis.command({"LPUSH", key, "x"}), RedisError);
  EXPECT_THROW(redis.command_once({"INCR", key}), RedisError);
  // A pipeline runs every command, then throws the first error.
  EXPECT_THROW(redis.pipeline({{"LPUSH", key, "x"}, {"SET", key + ":after", "1"}}), RedisError);
  EXPECT_EQ(redis.command({"GET", key + ":after"}).string(), "1");
  // The connection stays usable after an error reply.
  EXPECT_EQ(redis.command({"GET", key}).string(), "text");
  redis.command({"DEL", key, key + ":after"});
}

TEST(RedisClient, PoolIsBoundedAndThreadSafe) {
  REQUIRE_SERVERS();
  auto o = test::redis_options();
  o.pool_max = 3;
  RedisClient redis(o);
  std::string key = unique("t:count:");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) redis.command_once({"INCR", key});
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(redis.command({"GET", key}).string(), "1600");
}

TEST(RedisClient, PoolWaitTimesOutWhenAllConnectionsAreBusy) {
  REQUIRE_SERVERS();
  auto o = test::redis_options();
  o.pool_max = 1;
  o.pool_wait = 200ms;
  o.command_timeout = 3000ms;
  RedisClient redis(o);
  std::string key = unique("t:blk:");
  std::thread blocker([&] { redis.command({"BLPOP", key, "1"}); });  // holds the only connection
  std::this_thread::sleep_for(100ms);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(redis.command({"PING"}), RedisError);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  blocker.join();
  EXPECT_TRUE(redis.ping());
}

TEST(RedisClient, ReconnectsAfterTheServerDropsConnections) {
  REQUIRE_SERVERS();
  auto o = test::redis_options();
  o.pool_max = 2;
  RedisClient redis(o);
  ASSERT_TRUE(redis.ping());
  RedisClient admin(test::redis_options());
  admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  EXPECT_TRUE(redis.ping());  // the dead pooled connection is replaced transparently
}

TEST(RedisClient, UnreachableServerFailsFast) {
  RedisOptions o;
  o.host = "127.0.0.1";
  o.port = 1;  // nothing listens there
  RedisClient redis(o);
  EXPECT_FALSE(redis.ping());
  EXPECT_THROW(redis.command({"PING"}), RedisError);
}

TEST(RedisSessionStore, CreateFindRevokeAndExpire) {
  REQUIRE_SERVERS();
  RedisClient redis(test::redis_options());
  RedisSessionStore sessions(redis, unique("t:sess:") + ":");
  sessions.create_session("a", 42, now_ms() + 60'000);
  EXPECT_EQ(sessions.session_user("a", now_ms()), 42);
  EXPECT_EQ(sessions.session_user("b", now_ms()), std::nullopt);
  // The caller's clock is honoured too (like SqliteStore).
  EXPECT_EQ(sessions.session_user("a", now_ms() + 61'000), std::nullopt);
  sessions.revoke_session("a");
  EXPECT_EQ(sessions.session_user("a", now_ms()), std::nullopt);

  sessions.create_session("short", 7, now_ms() + 300);
  EXPECT_EQ(sessions.session_user("short", now_ms()), 7);
  std::this_thread::sleep_for(450ms);
  EXPECT_EQ(sessions.session_user("short", 0), std::nullopt);  // Redis expired the key itself
  sessions.create_session("past", 7, now_ms() - 1);
  EXPECT_EQ(sessions.session_user("past", 0), std::nullopt);
}

}  // namespace
}  // namespace roomcast
