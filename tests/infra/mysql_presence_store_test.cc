// MysqlPresenceStore must behave like SqlitePresenceStore (the reference): the same cases, run
// against both.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "store/mysql_presence_store.h"
#include "store/mysql_store.h"
#include "store/sqlite_presence_store.h"
#include "store/sqlite_store.h"
#include "test_env.h"

namespace roomcast {
namespace {

using test::unique;

std::vector<int64_t> ids_of(const std::vector<User>& users) {
  std::vector<int64_t> out;
  for (auto& u : users) out.push_back(u.id);
  return out;
}

void presence_semantics(Store& s, PresenceStore& p) {
  int64_t u[3] = {};
  for (auto& id : u) {
    auto name = unique("pres");
    ASSERT_EQ(s.create_user(name, name + "@example.com", "h", id), CreateUserResult::kOk);
  }
  auto room = unique("room"), lobby = unique("lobby");

  // Read positions only move forward, per user and room.
  EXPECT_EQ(p.advance_read(u[0], room, 5), 5u);
  EXPECT_EQ(p.advance_read(u[0], room, 3), 5u);
  EXPECT_EQ(p.advance_read(u[0], room, 9), 9u);
  EXPECT_EQ(p.advance_read(u[0], lobby, 2), 2u);
  auto positions = p.read_positions(u[0]);
  std::sort(positions.begin(), positions.end());
  auto expected = std::vector<std::pair<std::string, uint64_t>>{{room, 9}, {lobby, 2}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(positions, expected);
  EXPECT_TRUE(p.read_positions(u[1]).empty());

  // Many at once (Job's senders of a batch): forward only, 40 positions (a chunk of 32 and one
  // of 8), the same key twice keeps its highest.
  std::vector<ReadAdvance> moves{{u[0], room, 4}, {u[0], lobby, 7}, {u[1], room, 3}};
  std::vector<std::string> many;
  for (int i = 0; i < 37; ++i) {
    many.push_back(unique("many"));
    moves.push_back({u[2], many.back(), static_cast<uint64_t>(i + 1)});
  }
  moves.push_back({u[1], room, 6});
  p.advance_reads(moves);
  p.advance_reads({});
  EXPECT_EQ(p.advance_read(u[0], room, 0), 9u);   // 4 < 9: unchanged
  EXPECT_EQ(p.advance_read(u[0], lobby, 0), 7u);  // moved from 2
  EXPECT_EQ(p.advance_read(u[1], room, 0), 6u);
  EXPECT_EQ(p.read_positions(u[2]).size(), many.size());
  EXPECT_EQ(p.advance_read(u[2], many.back(), 0), 37u);
  p.advance_reads({{u[0], lobby, 2}});
  EXPECT_EQ(p.advance_read(u[0], lobby, 0), 7u);
  p.advance_reads({{u[0], lobby, 2}, {u[0], lobby, 2}});
  EXPECT_EQ(p.advance_read(u[0], lobby, 0), 7u);

  // A created room: those who joined and did not leave, by id, paged by `after`.
  for (auto id : u) s.set_membership(id, room, true);
  s.set_membership(u[1], room, false);
  EXPECT_EQ(ids_of(p.room_members(room, false, 0, 10)), (std::vector<int64_t>{u[0], u[2]}));
  EXPECT_EQ(ids_of(p.room_members(room, false, u[0], 1)), (std::vector<int64_t>{u[2]}));
  EXPECT_TRUE(p.room_members(room, false, u[2], 10).empty());
  EXPECT_EQ(p.count_room_members(room, false), 2);
  EXPECT_EQ(p.room_members(room, false, 0, 1).front().username.substr(0, 4), "pres");

  // A default room: every user but those who left it.
  auto before = p.count_room_members(lobby, true);
  s.set_membership(u[1], lobby, false);
  EXPECT_EQ(p.count_room_members(lobby, true), before - 1);
  EXPECT_EQ(ids_of(p.room_members(lobby, true, u[0] - 1, 10)), (std::vector<int64_t>{u[0], u[2]}));
}

TEST(SqlitePresenceStoreReference, Semantics) {
  auto path = std::filesystem::temp_directory_path() / unique("roomcast-pres-");
  {
    SqliteStore s(path.string());
    SqlitePresenceStore p(s);
    presence_semantics(s, p);
  }
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

TEST(MysqlPresenceStore, SameSemanticsAsSqlite) {
  REQUIRE_SERVERS();
  MysqlPool pool(test::mysql_options());
  MysqlStore s(pool);
  MysqlPresenceStore p(pool);
  MysqlPresenceStore again(pool);  // a second node starting finds the table and index made
  presence_semantics(s, p);
}

TEST(MysqlPresenceStore, AppendingMessagesMovesTheSendersReadPositionsInTheSameTransaction) {
  REQUIRE_SERVERS();
  MysqlPool pool(test::mysql_options());
  MysqlStore s(pool);
  MysqlPresenceStore p(pool);
  s.advance_senders_on_append();
  int64_t u[2] = {};
  for (auto& id : u) {
    auto name = unique("post");
    ASSERT_EQ(s.create_user(name, name + "@example.com", "h", id), CreateUserResult::kOk);
  }
  auto room = unique("room"), other = unique("other");
  auto msg = [&](const std::string& r, uint64_t seq, int64_t user) {
    return StoredMessage{r, seq, user, "n", "c", 1, "", unique("key")};
  };
  p.advance_read(u[1], room, 7);  // read further already: never moved back
  s.append_messages(
      {msg(room, 1, u[0]), msg(room, 2, u[1]), msg(room, 3, u[0]), msg(other, 1, u[1])});
  EXPECT_EQ(p.advance_read(u[0], room, 0), 3u);
  EXPECT_EQ(p.advance_read(u[1], room, 0), 7u);
  EXPECT_EQ(p.advance_read(u[1], other, 0), 1u);

  // A batch that fails is rolled back whole, its read positions too.
  auto taken = msg(room, 3, u[1]);  // (room, 3) is taken by another message
  EXPECT_THROW(s.append_messages({msg(other, 2, u[0]), taken}), StoreError);
  EXPECT_TRUE(p.read_positions(u[0]).size() == 1u);  // only `room`, not `other`
}

}  // namespace
}  // namespace roomcast
