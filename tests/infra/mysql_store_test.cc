// MysqlStore must behave like SqliteStore (the reference): the same cases, run against both.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "common/validation.h"
#include "store/mysql_store.h"
#include "store/sqlite_store.h"
#include "test_env.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using test::unique;

StoredMessage msg(const std::string& room, uint64_t seq, const std::string& key,
                  std::string content = "hello") {
  return {room,      seq, 1, "alice", std::move(content), 1000 + static_cast<int64_t>(seq),
          "c" + key, key};
}

// Accounts: case-insensitive uniqueness, lookups. `id` gets the new user's id.
void user_semantics(Store& s, int64_t& id) {
  auto u1 = unique("User"), u2 = unique("user");
  int64_t id2 = 0;
  ASSERT_EQ(s.create_user(u1, u1 + "@Example.com", "hash1", id), CreateUserResult::kOk);
  EXPECT_GT(id, 0);
  // Case-insensitive uniqueness; when both are taken SQLite reports the email.
  EXPECT_EQ(s.create_user(fold_case(u1), "x" + u1 + "@e.com", "h", id2),
            CreateUserResult::kUsernameExists);
  EXPECT_EQ(s.create_user(u2, fold_case(u1) + "@EXAMPLE.COM", "h", id2),
            CreateUserResult::kEmailExists);
  EXPECT_EQ(s.create_user(fold_case(u1), fold_case(u1) + "@example.com", "h", id2),
            CreateUserResult::kEmailExists);
  auto creds = s.find_user_by_email(fold_case(u1) + "@EXAMPLE.com");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->user.id, id);
  EXPECT_EQ(creds->user.username, u1);  // as typed
  EXPECT_EQ(creds->password_hash, "hash1");
  EXPECT_EQ(s.find_user(id)->username, u1);
  EXPECT_FALSE(s.find_user(id + 1000000));
  EXPECT_FALSE(s.find_user_by_email("nobody@nowhere.org"));
}

// Rooms and memberships of user `id`; `r1` and `r2` get the rooms' ids.
void room_semantics(Store& s, int64_t id, std::string& r1, std::string& r2) {
  r1 = unique("r");
  r2 = unique("r");
  s.ensure_room({r1, "One"});
  s.ensure_room({r1, "One renamed"});
  EXPECT_EQ(s.find_room(r1)->name, "One renamed");
  EXPECT_TRUE(s.create_room({r2, "Two"}, id));
  EXPECT_FALSE(s.create_room({r2, "Other"}, id));
  EXPECT_EQ(s.find_room(r2)->name, "Two");
  EXPECT_FALSE(s.find_room(r2 + "x"));
  auto rooms = s.find_rooms({r2, "missing", r1});
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_EQ(rooms[0].id, r2);
  EXPECT_EQ(rooms[1].id, r1);

  // Memberships keep first-insertion order; re-setting updates in place.
  s.set_membership(id, r2, true);
  s.set_membership(id, r1, true);
  s.set_membership(id, r2, false);
  auto ms = s.memberships(id);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].room_id, r2);
  EXPECT_FALSE(ms[0].joined);
  EXPECT_EQ(ms[1].room_id, r1);
  EXPECT_TRUE(ms[1].joined);
  EXPECT_TRUE(s.memberships(id + 1000000).empty());
}

// Messages in r1 (r2 stays empty): paging newest first, bounds exclusive, dedup keys, and
// all-or-nothing batches.
void message_semantics(Store& s, const std::string& r1, const std::string& r2) {
  EXPECT_EQ(s.last_seq(r1), 0u);
  std::vector<StoredMessage> batch;
  for (uint64_t i = 1; i <= 70; ++i) batch.push_back(msg(r1, i, r1 + ":k" + std::to_string(i)));
  batch[3].content = std::string("bin\0ary \xF0\x9F\x98\x80", 12);
  batch[4].content = std::string(5000, 'x');  // longer than the fetch buffer
  s.append_messages(batch);
  EXPECT_EQ(s.last_seq(r1), 70u);
  auto page = s.messages_between(r1, 0, UINT64_MAX, 50);
  ASSERT_EQ(page.size(), 50u);
  EXPECT_EQ(page.front().seq, 70u);
  EXPECT_EQ(page.back().seq, 21u);
  auto older = s.messages_between(r1, 0, page.back().seq, 50);
  ASSERT_EQ(older.size(), 20u);
  EXPECT_EQ(older.front().seq, 20u);
  EXPECT_EQ(older.back().seq, 1u);
  EXPECT_EQ(older[16].content, batch[3].content);
  EXPECT_EQ(older[15].content, batch[4].content);
  EXPECT_EQ(older[0].username, "alice");
  EXPECT_EQ(older[0].client_id, "c" + r1 + ":k20");
  EXPECT_EQ(older[0].timestamp_ms, 1020);
  auto mid = s.messages_between(r1, 10, 15, 100);
  ASSERT_EQ(mid.size(), 4u);
  EXPECT_EQ(mid[0].seq, 14u);
  EXPECT_EQ(mid[3].seq, 11u);
  EXPECT_TRUE(s.messages_between(r2, 0, UINT64_MAX, 10).empty());

  auto found = s.find_by_dedup_key(r1 + ":k7");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->seq, 7u);
  EXPECT_EQ(found->room_id, r1);
  EXPECT_EQ(found->dedup_key, r1 + ":k7");
  EXPECT_FALSE(s.find_by_dedup_key(r1 + ":nope"));

  // The batched lookup (Job's): chunks of 32 + 8 (padded), unknown keys skipped.
  std::vector<std::string> keys;
  for (int i = 1; i <= 37; ++i) keys.push_back(r1 + ":k" + std::to_string(i * 2 - 1));
  keys.push_back(r1 + ":nope");
  auto many = s.find_by_dedup_keys(keys);
  ASSERT_EQ(many.size(), 35u);  // k1, k3, ..., k69 exist; k71, k73 and "nope" do not
  std::set<uint64_t> seqs;
  for (auto& m : many) {
    EXPECT_EQ(m.dedup_key, r1 + ":k" + std::to_string(m.seq));
    seqs.insert(m.seq);
  }
  EXPECT_EQ(seqs.size(), 35u);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), 69u);
  EXPECT_TRUE(s.find_by_dedup_keys({}).empty());

  // All or nothing: a batch with one conflicting row stores nothing.
  std::vector<StoredMessage> bad = {msg(r1, 71, r1 + ":k71"), msg(r1, 72, r1 + ":k1")};
  EXPECT_THROW(s.append_messages(bad), StoreError);
  EXPECT_EQ(s.last_seq(r1), 70u);
  EXPECT_FALSE(s.find_by_dedup_key(r1 + ":k71"));
  bad = {msg(r1, 71, r1 + ":k71"), msg(r1, 70, r1 + ":other")};  // seq taken
  EXPECT_THROW(s.append_messages(bad), StoreError);
  EXPECT_EQ(s.last_seq(r1), 70u);
  s.append_messages({});
}

// The same semantic cases for both implementations.
void store_semantics(Store& s) {
  int64_t id = 0;
  user_semantics(s, id);
  if (::testing::Test::HasFatalFailure()) return;
  std::string r1, r2;
  room_semantics(s, id, r1, r2);
  if (::testing::Test::HasFatalFailure()) return;
  message_semantics(s, r1, r2);
}

TEST(SqliteStoreReference, Semantics) {
  auto path = std::filesystem::temp_directory_path() / unique("roomcast-ref-");
  {
    SqliteStore s(path.string());
    store_semantics(s);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST(MysqlStore, SameSemanticsAsSqlite) {
  REQUIRE_SERVERS();
  MysqlPool pool(test::mysql_options());
  MysqlStore s(pool);
  store_semantics(s);
}

TEST(MysqlStore, AppendIsIdempotentForARetriedBatch) {
  REQUIRE_SERVERS();
  MysqlPool pool(test::mysql_options());
  MysqlStore s(pool);
  auto r = unique("r");
  std::vector<StoredMessage> batch;
  for (uint64_t i = 1; i <= 40; ++i) batch.push_back(msg(r, i, r + ":" + std::to_string(i)));
  s.append_messages(batch);
  // The same batch again (its commit acknowledgement was lost): accepted, nothing doubled.
  s.append_messages(batch);
  // A retry that overlaps: the stored part is verified, the new part inserted.
  std::vector<StoredMessage> overlap(batch.begin() + 30, batch.end());
  for (uint64_t i = 41; i <= 45; ++i) overlap.push_back(msg(r, i, r + ":" + std::to_string(i)));
  s.append_messages(overlap);
  EXPECT_EQ(s.last_seq(r), 45u);
  EXPECT_EQ(s.messages_between(r, 0, UINT64_MAX, 100).size(), 45u);
  // Same key at another place is a conflict, not a silent success.
  EXPECT_THROW(s.append_messages({msg(r, 46, r + ":3")}), StoreError);
  EXPECT_EQ(s.last_seq(r), 45u);
}

TEST(MysqlStore, LongIdempotencyKeys) {
  REQUIRE_SERVERS();
  MysqlPool pool(test::mysql_options());
  MysqlStore s(pool);
  auto r = unique("r");
  std::string key = r + ":c:" + std::string(20000, 'k');
  s.append_messages({msg(r, 1, key)});
  EXPECT_EQ(s.find_by_dedup_key(key)->seq, 1u);
  EXPECT_FALSE(s.find_by_dedup_key(key + "x"));
}

TEST(MysqlPool, BoundedWaitsAndTimesOut) {
  REQUIRE_SERVERS();
  auto o = test::mysql_options();
  o.pool_max = 2;
  o.pool_wait = 300ms;
  MysqlPool pool(o);
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    EXPECT_EQ(pool.open_connections(), 2);
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(pool.acquire(), MysqlError);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
    // A waiter gets the connection released while it waits.
    std::thread release([a = std::move(a)]() mutable {
      std::this_thread::sleep_for(100ms);
      auto gone = std::move(a);
    });
    auto c = pool.acquire();
    release.join();
    EXPECT_EQ(c->execute("SELECT 1 + 1", {}).rows[0][0], "2");
  }
  EXPECT_EQ(pool.open_connections(), 2);
  EXPECT_EQ(pool.idle_connections(), 2);

  // Many threads over a small pool all get through.
  MysqlStore s(pool);
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) s.find_room("nope");
      ++done;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done, 6);
  EXPECT_LE(pool.open_connections(), 2);
}

TEST(MysqlPool, BadCredentialsFail) {
  REQUIRE_SERVERS();
  auto o = test::mysql_options();
  o.password += "wrong";
  MysqlPool pool(o);
  EXPECT_THROW(pool.acquire(), MysqlError);
  EXPECT_EQ(pool.open_connections(), 0);
}

TEST(MysqlPool, ReconnectsAfterServerRestart) {
  REQUIRE_SERVERS();
  auto o = test::mysql_options();
  o.pool_max = 3;
  MysqlPool pool(o);
  MysqlStore s(pool);
  auto r = unique("r");
  s.ensure_room({r, "Before"});
  {  // fill the pool with several idle connections that the restart will kill
    auto a = pool.acquire(), b = pool.acquire(), c = pool.acquire();
  }
  ASSERT_EQ(pool.idle_connections(), 3);
  ASSERT_EQ(test::servers_script("restart-mysql"), 0);
  // Statements on dead pooled connections are retried once on a fresh connection.
  EXPECT_EQ(s.find_room(r)->name, "Before");
  s.append_messages({msg(r, 1, r + ":1"), msg(r, 2, r + ":2")});
  EXPECT_EQ(s.last_seq(r), 2u);
  EXPECT_EQ(s.find_room(r)->name, "Before");
}

}  // namespace
}  // namespace roomcast
