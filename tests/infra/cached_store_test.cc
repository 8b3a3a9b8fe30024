#include "store/cached_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/mysql_store.h"
#include "test_env.h"

namespace roomcast {
namespace {

using test::unique;

struct CachedStoreTest : ::testing::Test {
  void SetUp() override {
    REQUIRE_SERVERS();
    redis = std::make_unique<RedisClient>(test::redis_options());
    pool = std::make_unique<MysqlPool>(test::mysql_options());
    mysql = std::make_unique<MysqlStore>(*pool);
    cached = std::make_unique<CachedStore>(*mysql, *redis);
    room = unique("r");
    mysql->ensure_room({room, "Cached"});
  }

  std::vector<StoredMessage> make(uint64_t from, uint64_t to) {
    std::vector<StoredMessage> out;
    for (uint64_t s = from; s <= to; ++s)
      out.push_back({room, s, 3, "bob", "m" + std::to_string(s), 5000 + static_cast<int64_t>(s),
                     s % 2 ? "" : "cid" + std::to_string(s), room + ":" + std::to_string(s)});
    return out;
  }

  // Pages through the whole room with both stores and compares every field.
  void expect_same_history(int page) {
    uint64_t before = UINT64_MAX;
    for (;;) {
      auto a = cached->messages_between(room, 0, before, page);
      auto b = mysql->messages_between(room, 0, before, page);
      ASSERT_EQ(a.size(), b.size()) << "before " << before;
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].seq, b[i].seq);
        EXPECT_EQ(a[i].content, b[i].content);
        EXPECT_EQ(a[i].username, b[i].username);
        EXPECT_EQ(a[i].user_id, b[i].user_id);
        EXPECT_EQ(a[i].timestamp_ms, b[i].timestamp_ms);
        EXPECT_EQ(a[i].client_id, b[i].client_id);
        EXPECT_EQ(a[i].room_id, room);
      }
      if (a.empty()) break;
      before = a.back().seq;
    }
    auto mid_a = cached->messages_between(room, 240, 245, 10);
    auto mid_b = mysql->messages_between(room, 240, 245, 10);
    EXPECT_EQ(mid_a.size(), mid_b.size());
  }

  std::unique_ptr<RedisClient> redis;
  std::unique_ptr<MysqlPool> pool;
  std::unique_ptr<MysqlStore> mysql;
  std::unique_ptr<CachedStore> cached;
  std::string room;
};

TEST_F(CachedStoreTest, FillWriteThroughAndFlushall) {
  cached->append_messages(make(1, 250));  // no cache yet: nothing written to Redis
  auto latest = cached->messages_between(room, 0, UINT64_MAX, 50);
  ASSERT_EQ(latest.size(), 50u);
  EXPECT_EQ(latest.front().seq, 250u);
  EXPECT_EQ(cached->stats().fills, 1u);
  auto hits = cached->stats().history_hits;
  cached->messages_between(room, 0, UINT64_MAX, 50);
  EXPECT_EQ(cached->stats().history_hits, hits + 1);

  cached->append_messages(make(251, 260));  // written through
  latest = cached->messages_between(room, 0, UINT64_MAX, 20);
  ASSERT_EQ(latest.size(), 20u);
  EXPECT_EQ(latest.front().seq, 260u);
  EXPECT_EQ(latest.back().seq, 241u);
  EXPECT_EQ(cached->stats().fills, 1u);
  // The window is bounded: 200 newest entries.
  EXPECT_EQ(redis->command({"ZCARD", "rc:h:{" + room + "}"}).integer, 200);
  expect_same_history(50);  // older pages come from MySQL

  redis->command({"FLUSHALL"}).check();
  expect_same_history(30);
  EXPECT_EQ(cached->stats().fills, 2u);  // refilled once
  EXPECT_EQ(redis->command({"EXISTS", "rc:hm:{" + room + "}"}).integer, 1);
  cached->append_messages(make(261, 262));
  EXPECT_EQ(cached->messages_between(room, 0, UINT64_MAX, 1).front().seq, 262u);
}

TEST_F(CachedStoreTest, MissedWriteDropsTheCacheInsteadOfLeavingAHole) {
  cached->append_messages(make(1, 5));
  cached->messages_between(room, 0, UINT64_MAX, 10);  // fill
  mysql->append_messages(make(6, 6));                 // a write the cache never saw
  cached->append_messages(make(7, 7));                // would leave a hole: cache dropped
  auto page = cached->messages_between(room, 0, UINT64_MAX, 10);
  ASSERT_EQ(page.size(), 7u);
  EXPECT_EQ(page[1].seq, 6u);
}

TEST_F(CachedStoreTest, EvictedSetIsDetected) {
  cached->append_messages(make(1, 5));
  cached->messages_between(room, 0, UINT64_MAX, 10);  // fill
  redis->command({"DEL", "rc:h:{" + room + "}"});     // as if evicted, meta left behind
  EXPECT_EQ(cached->messages_between(room, 0, UINT64_MAX, 10).size(), 5u);
}

TEST_F(CachedStoreTest, StaleFillIsNotInstalled) {
  cached->append_messages(make(1, 3));
  // A newer write happened (known seq 9) while a reader's database page only reached 3.
  redis->command({"SET", "rc:hl:{" + room + "}", "9"});
  EXPECT_EQ(cached->messages_between(room, 0, UINT64_MAX, 10).size(), 3u);
  EXPECT_EQ(redis->command({"EXISTS", "rc:hm:{" + room + "}"}).integer, 0);
}

TEST_F(CachedStoreTest, OneFillUnderAStampede) {
  cached->append_messages(make(1, 120));
  redis->command({"FLUSHALL"}).check();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      auto page = cached->messages_between(room, 0, UINT64_MAX, 50);
      if (page.size() == 50 && page.front().seq == 120 && page.back().seq == 71) ++good;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good, 8);
  EXPECT_EQ(cached->stats().fills, 1u);
}

TEST_F(CachedStoreTest, RoomsAndNegativeCaching) {
  auto id = unique("r");
  EXPECT_FALSE(cached->find_room(id));
  auto misses = cached->stats().room_misses;
  EXPECT_FALSE(cached->find_room(id));  // answered by the negative entry
  EXPECT_EQ(cached->stats().room_misses, misses);
  auto ttl = redis->command({"PTTL", "rc:room:" + id}).integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 11000);
  EXPECT_TRUE(cached->create_room({id, "New"}, 1));
  EXPECT_EQ(cached->find_room(id)->name, "New");
  EXPECT_FALSE(cached->create_room({id, "Again"}, 1));
  cached->ensure_room({room, "Renamed"});
  auto rooms = cached->find_rooms({id, "nope-" + id, room});
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_EQ(rooms[0].name, "New");
  EXPECT_EQ(rooms[1].name, "Renamed");
  redis->command({"FLUSHALL"}).check();
  rooms = cached->find_rooms({room, id});
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_EQ(rooms[0].id, room);
}

TEST_F(CachedStoreTest, MembershipsAreCachedAndEveryChangeIsSeenAtOnce) {
  int64_t user = 900000 + static_cast<int64_t>(std::hash<std::string>{}(room) % 100000);
  auto a = unique("ma"), b = unique("mb");
  auto joined = [&](const std::vector<Store::Membership>& rows, const std::string& id) {
    for (auto& m : rows)
      if (m.room_id == id) return std::optional<bool>(m.joined);
    return std::optional<bool>();
  };
  cached->set_membership(user, a, true);
  EXPECT_EQ(joined(cached->memberships(user), a), true);
  auto hits = cached->stats().membership_hits;
  EXPECT_EQ(joined(cached->memberships(user), a), true);
  EXPECT_EQ(cached->stats().membership_hits, hits + 1) << "the second read comes from Redis";

  // A change through this store is seen by the next read.
  cached->set_membership(user, a, false);
  cached->set_membership(user, b, true);
  auto rows = cached->memberships(user);
  EXPECT_EQ(joined(rows, a), false);
  EXPECT_EQ(joined(rows, b), true);

  // A change made elsewhere (another Logic: database write, then the generation bump) wins over
  // an entry filled before it, even though that entry has not expired.
  mysql->set_membership(user, b, false);
  EXPECT_EQ(joined(cached->memberships(user), b), true) << "not bumped yet: the cached entry";
  redis->command({"INCR", "rc:memgen:" + std::to_string(user)}).check();
  EXPECT_EQ(joined(cached->memberships(user), b), false);

  // Room ids with the encoding's separators survive the round trip; FLUSHALL loses nothing.
  auto odd = a + ":1\n0";
  cached->set_membership(user, odd, true);
  cached->memberships(user);
  EXPECT_EQ(joined(cached->memberships(user), odd), true);
  redis->command({"FLUSHALL"}).check();
  rows = cached->memberships(user);
  EXPECT_EQ(joined(rows, odd), true);
  EXPECT_EQ(joined(rows, a), false);
  EXPECT_EQ(rows.size(), mysql->memberships(user).size());
}

TEST_F(CachedStoreTest, AMembershipChangeIsSeenEvenWhenThePoolWasBusyAtFirst) {
  // One connection, a short wait for it: the generation bump after the database write finds the
  // pool busy (another thread holds the connection for 500 ms) and must not give up.
  auto o = test::redis_options();
  o.pool_max = 1;
  o.pool_wait = std::chrono::milliseconds(200);
  o.command_timeout = std::chrono::milliseconds(3000);
  RedisClient busy(o);
  CachedStore store(*mysql, busy);
  int64_t user = 800000 + static_cast<int64_t>(std::hash<std::string>{}(room) % 100000);
  auto member = [&] {
    for (auto& m : store.memberships(user))
      if (m.room_id == room) return m.joined;
    return false;
  };
  EXPECT_FALSE(member());  // cached: not a member
  std::thread holder([&] { busy.command({"BLPOP", unique("t:hold:"), "0.5"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  store.set_membership(user, room, true);
  holder.join();
  EXPECT_TRUE(member()) << "the entry from before the join was served";
}

}  // namespace
}  // namespace roomcast
