// SqliteStore semantics (the contract every Store implementation follows) and sessions.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/ids.h"
#include "store/password.h"
#include "store/sqlite_store.h"

using namespace roomcast;
namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("roomcast-store-" + random_hex(6));
    fs::create_directories(dir);
    store = std::make_unique<SqliteStore>((dir / "db").string());
  }
  void TearDown() override {
    store.reset();
    fs::remove_all(dir);
  }
  StoredMessage msg(const std::string& room, uint64_t seq, const std::string& key) {
    return {room, seq, 1, "ann", "content " + std::to_string(seq), 1000 + int64_t(seq), "", key};
  }
  fs::path dir;
  std::unique_ptr<SqliteStore> store;
};

TEST_F(SqliteStoreTest, UsersAreUniqueCaseInsensitively) {
  int64_t id = 0, id2 = 0;
  EXPECT_EQ(store->create_user("Alice", "Alice@Example.com", "h", id), CreateUserResult::kOk);
  EXPECT_EQ(store->create_user("alice", "other@example.com", "h", id2),
            CreateUserResult::kUsernameExists);
  EXPECT_EQ(store->create_user("bob", "ALICE@example.COM", "h", id2),
            CreateUserResult::kEmailExists);
  auto creds = store->find_user_by_email("alice@example.com");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->user.id, id);
  EXPECT_EQ(creds->user.username, "Alice");  // stored as given
  EXPECT_EQ(store->find_user(id)->username, "Alice");
  EXPECT_FALSE(store->find_user(id + 100));
}

TEST_F(SqliteStoreTest, RoomsAndMemberships) {
  store->ensure_room({"general", "General"});
  store->ensure_room({"general", "General chat"});  // renames
  EXPECT_EQ(store->find_room("general")->name, "General chat");
  EXPECT_TRUE(store->create_room({"r1", "One"}, 1));
  EXPECT_FALSE(store->create_room({"r1", "Again"}, 1));
  store->set_membership(1, "r1", true);
  store->set_membership(1, "general", false);
  auto m = store->memberships(1);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(m[0].joined);
  EXPECT_FALSE(m[1].joined);
  store->set_membership(1, "r1", false);
  EXPECT_FALSE(store->memberships(1)[0].joined);
  auto rooms = store->find_rooms({"r1", "missing", "general"});
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_EQ(rooms[0].id, "r1");
}

TEST_F(SqliteStoreTest, MessagesPageNewestFirstAndAppendIsAllOrNothing) {
  EXPECT_EQ(store->last_seq("r"), 0u);
  std::vector<StoredMessage> batch;
  for (uint64_t s = 1; s <= 10; ++s) batch.push_back(msg("r", s, "k" + std::to_string(s)));
  store->append_messages(batch);
  EXPECT_EQ(store->last_seq("r"), 10u);
  auto page = store->messages_between("r", 0, UINT64_MAX, 3);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].seq, 10u);
  EXPECT_EQ(page[2].seq, 8u);
  auto mid = store->messages_between("r", 2, 6, 100);
  ASSERT_EQ(mid.size(), 3u);
  EXPECT_EQ(mid.front().seq, 5u);
  EXPECT_EQ(mid.back().seq, 3u);
  EXPECT_EQ(store->find_by_dedup_key("k4")->seq, 4u);
  EXPECT_FALSE(store->find_by_dedup_key("nope"));

  // A batch with a duplicate key fails as a whole: seq 11 must not be half-written.
  std::vector<StoredMessage> bad{msg("r", 11, "k11"), msg("r", 12, "k4")};
  EXPECT_THROW(store->append_messages(bad), StoreError);
  EXPECT_EQ(store->last_seq("r"), 10u);
  EXPECT_FALSE(store->find_by_dedup_key("k11"));
}

TEST_F(SqliteStoreTest, SessionsExpireAndCanBeRevoked) {
  int64_t now = now_ms(), a = 0, b = 0;
  store->create_user("sess-a", "a@example.com", "h", a);
  store->create_user("sess-b", "b@example.com", "h", b);
  store->create_session("key-a", a, now + 1000);
  store->create_session("key-b", b, now - 1);  // already expired
  EXPECT_EQ(store->session_user("key-a", now), a);
  EXPECT_FALSE(store->session_user("key-a", now + 1001));
  EXPECT_FALSE(store->session_user("key-b", now));
  store->revoke_session("key-a");
  EXPECT_FALSE(store->session_user("key-a", now));
}

TEST_F(SqliteStoreTest, SurvivesReopen) {
  int64_t id = 0;
  store->create_user("carol", "carol@example.com", "h", id);
  store->append_messages({msg("r", 1, "x")});
  store.reset();
  store = std::make_unique<SqliteStore>((dir / "db").string());
  EXPECT_TRUE(store->find_user_by_email("carol@example.com"));
  EXPECT_EQ(store->last_seq("r"), 1u);
}

// Soak: reads that return one row between writes must not pin the WAL. With a statement left
// on its row, its read snapshot blocks every checkpoint and the -wal file grows with each write.
TEST_F(SqliteStoreTest, TheWalStopsGrowingUnderReadsAndWrites) {
  store->ensure_room({"soak", "Soak"});
  int64_t user = 0;
  ASSERT_EQ(store->create_user("soaker", "soak@example.com", "h", user), CreateUserResult::kOk);
  auto wal = dir / "db-wal";
  std::vector<std::uintmax_t> sizes;
  uint64_t seq = 0;
  for (int phase = 0; phase < 4; ++phase) {
    for (int batch = 0; batch < 30; ++batch) {
      std::vector<StoredMessage> messages;
      for (int i = 0; i < 50; ++i, ++seq)
        messages.push_back({"soak", seq + 1, user, "soaker", std::string(1000, 'x'), 1, "",
                            "soak:" + std::to_string(seq)});
      store->append_messages(messages);
      // One-row reads, as every request makes them.
      ASSERT_TRUE(store->find_room("soak"));
      ASSERT_TRUE(store->find_user(user));
      ASSERT_EQ(store->last_seq("soak"), seq);
    }
    sizes.push_back(std::filesystem::file_size(wal));
  }
  // 6 MB written in 4 phases: the WAL is reused after each checkpoint (about 4 MB, the
  // autocheckpoint size) instead of growing with every phase.
  EXPECT_LT(sizes[3], sizes[0] + (std::uintmax_t{512} << 10))
      << sizes[0] << " " << sizes[1] << " " << sizes[2] << " " << sizes[3];
  EXPECT_LT(sizes[3], std::uintmax_t{5} << 20);
}

TEST(Password, HashesVerifyAndCarryTheirCost) {
  auto h = hash_password("correct horse battery", PasswordCost::kMin);
  EXPECT_TRUE(h.starts_with("$argon2id$"));
  EXPECT_TRUE(verify_password(h, "correct horse battery"));
  EXPECT_FALSE(verify_password(h, "correct horse batterY"));
  EXPECT_NE(h, hash_password("correct horse battery", PasswordCost::kMin));  // salted
  EXPECT_FALSE(verify_password("not a hash", "x"));
  EXPECT_THROW(parse_password_cost("cheap"), std::invalid_argument);
}
