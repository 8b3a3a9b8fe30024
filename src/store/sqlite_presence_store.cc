#include "store/sqlite_presence_store.h"

#include <sqlite3.h>

#include "store/sqlite_stmt.h"

namespace roomcast {

// These queries run per request, not per message: each prepares its statement.

SqlitePresenceStore::SqlitePresenceStore(SqliteStore& store) : store_(store) {
  store_.with_connection([](sqlite3* db) {
    char* err = nullptr;
    const char* schema = R"(
      CREATE TABLE IF NOT EXISTS read_state (
        user_id INTEGER NOT NULL, room_id TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (user_id, room_id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS memberships_by_room ON memberships(room_id, joined, user_id);)";
    if (sqlite3_exec(db, schema, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      throw StoreError("sqlite: " + msg);
    }
    return true;
  });
}

std::vector<std::pair<std::string, uint64_t>> SqlitePresenceStore::read_positions(int64_t user_id) {
  return store_.with_connection([&](sqlite3* db) {
    SqliteStmt q(db, "SELECT room_id, seq FROM read_state WHERE user_id = ?");
    q.bind(1, user_id);
    std::vector<std::pair<std::string, uint64_t>> out;
    while (q.step()) out.emplace_back(q.text(0), static_cast<uint64_t>(q.i64(1)));
    return out;
  });
}

uint64_t SqlitePresenceStore::advance_read(int64_t user_id, const std::string& room_id,
                                           uint64_t seq) {
  return store_.with_connection([&](sqlite3* db) {
    SqliteStmt q(db,
                 "INSERT INTO read_state (user_id, room_id, seq) VALUES (?, ?, ?) "
                 "ON CONFLICT(user_id, room_id) DO UPDATE SET seq = MAX(seq, excluded.seq) "
                 "RETURNING seq");
    q.bind(1, user_id).bind(2, room_id).bind(3, static_cast<int64_t>(seq));
    uint64_t stored = q.step() ? static_cast<uint64_t>(q.i64(0)) : seq;
    while (q.step()) {
    }
    return stored;
  });
}

std::vector<User> SqlitePresenceStore::room_members(const std::string& room_id, bool default_room,
                                                    int64_t after_user, int limit) {
  // A default room's members are all users but those with a "left" row.
  const char* sql =
      default_room
          ? "SELECT id, username FROM users u WHERE id > ?2 AND NOT EXISTS (SELECT 1 FROM "
            "memberships m WHERE m.user_id = u.id AND m.room_id = ?1 AND m.joined = 0) "
            "ORDER BY id LIMIT ?3"
          : "SELECT u.id, u.username FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.room_id = ?1 AND m.joined = 1 AND m.user_id > ?2 ORDER BY m.user_id LIMIT ?3";
  return store_.with_connection([&](sqlite3* db) {
    SqliteStmt q(db, sql);
    q.bind(1, room_id).bind(2, after_user).bind(3, int64_t{limit});
    std::vector<User> out;
    while (q.step()) out.push_back({q.i64(0), q.text(1)});
    return out;
  });
}

int64_t SqlitePresenceStore::count_room_members(const std::string& room_id, bool default_room) {
  const char* sql = default_room
                        ? "SELECT (SELECT COUNT(*) FROM users) - (SELECT COUNT(*) FROM memberships "
                          "WHERE room_id = ?1 AND joined = 0)"
                        : "SELECT COUNT(*) FROM memberships WHERE room_id = ?1 AND joined = 1";
  return store_.with_connection([&](sqlite3* db) {
    SqliteStmt q(db, sql);
    q.bind(1, room_id);
    return q.step() ? q.i64(0) : int64_t{0};
  });
}

}  // namespace roomcast
