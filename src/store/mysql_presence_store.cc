#include "store/mysql_presence_store.h"

#include <charconv>

namespace roomcast {

namespace {

constexpr unsigned kDuplicateKeyName = 1061;  // ER_DUP_KEYNAME: the index exists already

int64_t to_i64(const std::optional<std::string>& v) {
  int64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

}  // namespace

MysqlPresenceStore::MysqlPresenceStore(MysqlPool& pool) : pool_(pool) {
  migrate();
}

void MysqlPresenceStore::migrate() {
  pool_.with_retry([&](MysqlConnection& c, int) {
    c.query(R"(CREATE TABLE IF NOT EXISTS read_positions (
                 user_id BIGINT NOT NULL, room_id VARBINARY(255) NOT NULL,
                 last_seq BIGINT UNSIGNED NOT NULL,
                 PRIMARY KEY (user_id, room_id)) ENGINE=InnoDB)");
    // Member lists of a room are read by room, in user id order. Logic and Job start together:
    // whichever comes second finds the index made (MySQL has no CREATE INDEX IF NOT EXISTS).
    try {
      c.query("CREATE INDEX memberships_by_room ON memberships (room_id, joined, user_id)");
    } catch (const MysqlError& e) {
      if (e.code != kDuplicateKeyName) throw;
    }
  });
}

std::vector<std::pair<std::string, uint64_t>> MysqlPresenceStore::read_positions(int64_t user_id) {
  return pool_.with_retry([&](MysqlConnection& c, int) {
    auto r = c.execute("SELECT room_id, last_seq FROM read_positions WHERE user_id = ?", {user_id});
    std::vector<std::pair<std::string, uint64_t>> out;
    out.reserve(r.rows.size());
    for (auto& row : r.rows)
      out.emplace_back(row[0].value_or(""), static_cast<uint64_t>(to_i64(row[1])));
    return out;
  });
}

uint64_t MysqlPresenceStore::advance_read(int64_t user_id, const std::string& room_id,
                                          uint64_t seq) {
  // Forward only, and safe to repeat (with_retry may run it twice).
  return pool_.with_retry([&](MysqlConnection& c, int) {
    c.execute(
        "INSERT INTO read_positions (user_id, room_id, last_seq) VALUES (?, ?, ?) "
        "ON DUPLICATE KEY UPDATE last_seq = GREATEST(last_seq, VALUES(last_seq))",
        {user_id, std::string_view(room_id), seq});
    auto r = c.execute("SELECT last_seq FROM read_positions WHERE user_id = ? AND room_id = ?",
                       {user_id, std::string_view(room_id)});
    return r.rows.empty() ? seq : static_cast<uint64_t>(to_i64(r.rows[0][0]));
  });
}

void upsert_read_positions(MysqlConnection& c, const std::vector<ReadAdvance>& moves) {
  // Forward only, and safe to repeat. Chunks of 32, the rest in power-of-two chunks: at most
  // six statement shapes are prepared per connection whatever the batch sizes.
  std::size_t i = 0, left = moves.size();
  while (left > 0) {
    std::size_t n = 32;
    while (n > left) n /= 2;
    std::string sql = "INSERT INTO read_positions (user_id, room_id, last_seq) VALUES ";
    std::vector<MysqlParam> params;
    for (std::size_t k = 0; k < n; ++k) {
      sql += k ? ",(?,?,?)" : "(?,?,?)";
      auto& m = moves[i + k];
      params.insert(params.end(), {m.user_id, std::string_view(m.room_id), m.seq});
    }
    sql += " ON DUPLICATE KEY UPDATE last_seq = GREATEST(last_seq, VALUES(last_seq))";
    c.execute(sql, params);
    i += n;
    left -= n;
  }
}

void MysqlPresenceStore::advance_reads(const std::vector<ReadAdvance>& moves) {
  if (moves.empty()) return;
  pool_.with_retry([&](MysqlConnection& c, int) {
    c.begin();
    try {
      upsert_read_positions(c, moves);
      c.commit();
    } catch (...) {
      c.rollback();
      throw;
    }
  });
}

std::vector<User> MysqlPresenceStore::room_members(const std::string& room_id, bool default_room,
                                                   int64_t after_user, int limit) {
  // A default room's members are all users but those with a "left" row.
  const char* sql =
      default_room
          ? "SELECT id, username FROM users u WHERE id > ? AND NOT EXISTS (SELECT 1 FROM "
            "memberships m WHERE m.user_id = u.id AND m.room_id = ? AND m.joined = 0) "
            "ORDER BY id LIMIT ?"
          : "SELECT u.id, u.username FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.user_id > ? AND m.room_id = ? AND m.joined = 1 ORDER BY m.user_id LIMIT ?";
  return pool_.with_retry([&](MysqlConnection& c, int) {
    auto r = c.execute(sql, {after_user, std::string_view(room_id), int64_t{limit}});
    std::vector<User> out;
    out.reserve(r.rows.size());
    for (auto& row : r.rows) out.push_back({to_i64(row[0]), row[1].value_or("")});
    return out;
  });
}

int64_t MysqlPresenceStore::count_room_members(const std::string& room_id, bool default_room) {
  const char* sql = default_room
                        ? "SELECT (SELECT COUNT(*) FROM users) - (SELECT COUNT(*) FROM memberships "
                          "WHERE room_id = ? AND joined = 0)"
                        : "SELECT COUNT(*) FROM memberships WHERE room_id = ? AND joined = 1";
  return pool_.with_retry([&](MysqlConnection& c, int) {
    auto r = c.execute(sql, {std::string_view(room_id)});
    return r.rows.empty() ? int64_t{0} : to_i64(r.rows[0][0]);
  });
}

}  // namespace roomcast
