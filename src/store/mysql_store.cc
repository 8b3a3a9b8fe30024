#include "store/mysql_store.h"

#include <sodium.h>

#include <charconv>
#include <unordered_set>

#include "common/validation.h"
#include "store/mysql_presence_store.h"

namespace roomcast {

namespace {

// Columns are binary (VARBINARY/BLOB): values are stored and compared byte for byte, exactly as
// SQLite does, with no charset conversion that could reject or alter what a client sent.
// Message idempotency keys embed a client-chosen id of unbounded length, so uniqueness is
// enforced on a 32-byte BLAKE2b hash of the key (dedup_hash) while the key itself is kept whole.
constexpr const char* kSchema[] = {
    R"(CREATE TABLE IF NOT EXISTS schema_version (
         id TINYINT NOT NULL PRIMARY KEY, version INT NOT NULL) ENGINE=InnoDB)",
    R"(CREATE TABLE IF NOT EXISTS users (
         id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
         username VARBINARY(1024) NOT NULL, username_key VARBINARY(1024) NOT NULL,
         email VARBINARY(1024) NOT NULL, email_key VARBINARY(1024) NOT NULL,
         password_hash VARBINARY(1024) NOT NULL,
         created_ms BIGINT NOT NULL,
         UNIQUE KEY users_username_key (username_key),
         UNIQUE KEY users_email_key (email_key)) ENGINE=InnoDB)",
    R"(CREATE TABLE IF NOT EXISTS rooms (
         id VARBINARY(255) NOT NULL PRIMARY KEY,
         name VARBINARY(1024) NOT NULL,
         creator_id BIGINT NULL) ENGINE=InnoDB)",
    // `id` keeps the order in which a user's rows were first made (SQLite's rowid order).
    R"(CREATE TABLE IF NOT EXISTS memberships (
         id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
         user_id BIGINT NOT NULL, room_id VARBINARY(255) NOT NULL, joined TINYINT NOT NULL,
         UNIQUE KEY memberships_user_room (user_id, room_id)) ENGINE=InnoDB)",
    // The primary key (room_id, seq) is the clustered index history pages are read from.
    R"(CREATE TABLE IF NOT EXISTS messages (
         room_id VARBINARY(255) NOT NULL, seq BIGINT UNSIGNED NOT NULL,
         user_id BIGINT NOT NULL, username VARBINARY(1024) NOT NULL, content MEDIUMBLOB NOT NULL,
         timestamp_ms BIGINT NOT NULL, client_id BLOB NOT NULL, dedup_key BLOB NOT NULL,
         dedup_hash BINARY(32) NOT NULL,
         PRIMARY KEY (room_id, seq),
         UNIQUE KEY messages_dedup (dedup_hash)) ENGINE=InnoDB)",
};
constexpr int kSchemaVersion = 1;

std::string dedup_hash(const std::string& key) {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
  return out;
}

int64_t to_i64(const std::optional<std::string>& v) {
  int64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

uint64_t to_u64(const std::optional<std::string>& v) {
  uint64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

MysqlStore::MysqlStore(MysqlPool& pool) : pool_(pool) {
  migrate();
}

void MysqlStore::migrate() {
  pool_.with_retry([&](MysqlConnection& c, int) {
    // Several processes may start at once: one of them migrates, the others wait for it.
    auto lock = c.execute("SELECT GET_LOCK('roomcast_schema', 30)", {});
    if (lock.rows.empty() || to_i64(lock.rows[0][0]) != 1)
      throw StoreError("mysql: could not take the schema lock");
    try {
      for (const char* ddl : kSchema) c.query(ddl);
      c.execute(
          "INSERT INTO schema_version (id, version) VALUES (1, ?) "
          "ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version))",
          {int64_t{kSchemaVersion}});
    } catch (...) {
      try {
        c.execute("SELECT RELEASE_LOCK('roomcast_schema')", {});
      } catch (...) {
      }
      throw;
    }
    c.execute("SELECT RELEASE_LOCK('roomcast_schema')", {});
  });
}

void MysqlStore::drop_all_for_tests() {
  pool_.with_retry([&](MysqlConnection& c, int) {
    c.query("DROP TABLE IF EXISTS messages, memberships, rooms, users, schema_version");
  });
  migrate();
}

CreateUserResult MysqlStore::create_user(const std::string& username, const std::string& email,
                                         const std::string& password_hash, int64_t& id_out) {
  auto ukey = fold_case(username), ekey = fold_case(email);
  return pool_.with_retry([&](MysqlConnection& c, int attempt) {
    try {
      auto r = c.execute(
          "INSERT INTO users (username, username_key, email, email_key, password_hash, "
          "created_ms) VALUES (?,?,?,?,?,?)",
          {username, ukey, email, ekey, password_hash, wall_ms()});
      id_out = static_cast<int64_t>(r.insert_id);
      return CreateUserResult::kOk;
    } catch (const MysqlError& e) {
      if (!e.duplicate_key()) throw;
    }
    // Which key was taken; when both are, SQLite (the reference) reports the email.
    auto existing =
        c.execute("SELECT id, username_key, password_hash FROM users WHERE email_key = ?", {ekey});
    if (existing.rows.empty()) return CreateUserResult::kUsernameExists;
    // A retry after the first insert committed but its answer was lost finds its own row.
    auto& row = existing.rows[0];
    if (attempt > 0 && row[1] == ukey && row[2] == password_hash) {
      id_out = to_i64(row[0]);
      return CreateUserResult::kOk;
    }
    return CreateUserResult::kEmailExists;
  });
}

CreateUserResult MysqlStore::account_conflict(const std::string& username,
                                              const std::string& email) {
  auto ukey = fold_case(username), ekey = fold_case(email);
  return pool_.with_retry([&](MysqlConnection& c, int) {
    if (!c.execute("SELECT 1 FROM users WHERE email_key = ?", {ekey}).rows.empty())
      return CreateUserResult::kEmailExists;
    if (!c.execute("SELECT 1 FROM users WHERE username_key = ?", {ukey}).rows.empty())
      return CreateUserResult::kUsernameExists;
    return CreateUserResult::kOk;
  });
}

std::optional<UserCredentials> MysqlStore::find_user_by_email(const std::string& email) {
  auto key = fold_case(email);
  return pool_.with_retry([&](MysqlConnection& c, int) -> std::optional<UserCredentials> {
    auto r = c.execute("SELECT id, username, password_hash FROM users WHERE email_key = ?", {key});
    if (r.rows.empty()) return std::nullopt;
    auto& row = r.rows[0];
    return UserCredentials{{to_i64(row[0]), row[1].value_or("")}, row[2].value_or("")};
  });
}

std::optional<User> MysqlStore::find_user(int64_t id) {
  return pool_.with_retry([&](MysqlConnection& c, int) -> std::optional<User> {
    auto r = c.execute("SELECT id, username FROM users WHERE id = ?", {id});
    if (r.rows.empty()) return std::nullopt;
    return User{to_i64(r.rows[0][0]), r.rows[0][1].value_or("")};
  });
}

void MysqlStore::ensure_room(const RoomInfo& room) {
  pool_.with_retry([&](MysqlConnection& c, int) {
    c.execute(
        "INSERT INTO rooms (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)",
        {room.id, room.name});
  });
}

bool MysqlStore::create_room(const RoomInfo& room, int64_t creator) {
  return pool_.with_retry([&](MysqlConnection& c, int attempt) {
    try {
      c.execute("INSERT INTO rooms (id, name, creator_id) VALUES (?, ?, ?)",
                {room.id, room.name, creator});
      return true;
    } catch (const MysqlError& e) {
      if (!e.duplicate_key()) throw;
    }
    if (attempt == 0) return false;
    // Retried after a lost connection: the first attempt may have created it.
    auto r = c.execute("SELECT name, creator_id FROM rooms WHERE id = ?", {room.id});
    return !r.rows.empty() && r.rows[0][0] == room.name && to_i64(r.rows[0][1]) == creator;
  });
}

std::optional<RoomInfo> MysqlStore::find_room(const std::string& id) {
  return pool_.with_retry([&](MysqlConnection& c, int) -> std::optional<RoomInfo> {
    auto r = c.execute("SELECT id, name FROM rooms WHERE id = ?", {id});
    if (r.rows.empty()) return std::nullopt;
    return RoomInfo{r.rows[0][0].value_or(""), r.rows[0][1].value_or("")};
  });
}

std::vector<RoomInfo> MysqlStore::find_rooms(const std::vector<std::string>& ids) {
  return pool_.with_retry([&](MysqlConnection& c, int) {
    std::vector<RoomInfo> out;
    for (auto& id : ids) {
      auto r = c.execute("SELECT id, name FROM rooms WHERE id = ?", {id});
      if (!r.rows.empty()) out.push_back({r.rows[0][0].value_or(""), r.rows[0][1].value_or("")});
    }
    return out;
  });
}

std::vector<Store::Membership> MysqlStore::memberships(int64_t user_id) {
  return pool_.with_retry([&](MysqlConnection& c, int) {
    auto r = c.execute("SELECT room_id, joined FROM memberships WHERE user_id = ? ORDER BY id",
                       {user_id});
    std::vector<Membership> out;
    for (auto& row : r.rows) out.push_back({row[0].value_or(""), to_i64(row[1]) != 0});
    return out;
  });
}

void MysqlStore::set_membership(int64_t user_id, const std::string& room_id, bool joined) {
  pool_.with_retry([&](MysqlConnection& c, int) {
    c.execute(
        "INSERT INTO memberships (user_id, room_id, joined) VALUES (?,?,?) "
        "ON DUPLICATE KEY UPDATE joined = VALUES(joined)",
        {user_id, room_id, int64_t{joined}});
  });
}

uint64_t MysqlStore::last_seq(const std::string& room_id) {
  return pool_.with_retry([&](MysqlConnection& c, int) {
    auto r = c.execute("SELECT MAX(seq) FROM messages WHERE room_id = ?", {room_id});
    return r.rows.empty() ? uint64_t{0} : to_u64(r.rows[0][0]);
  });
}

std::optional<StoredMessage> MysqlStore::find_by_dedup_key(const std::string& key) {
  auto hash = dedup_hash(key);
  return pool_.with_retry([&](MysqlConnection& c, int) -> std::optional<StoredMessage> {
    auto r = c.execute(
        "SELECT room_id, seq, user_id, username, content, timestamp_ms, client_id, dedup_key "
        "FROM messages WHERE dedup_hash = ?",
        {std::string_view(hash)});
    for (auto& row : r.rows)
      if (row[7] == key)
        return StoredMessage{
            row[0].value_or(""), to_u64(row[1]), to_i64(row[2]),      row[3].value_or(""),
            row[4].value_or(""), to_i64(row[5]), row[6].value_or(""), key};
    return std::nullopt;
  });
}

std::vector<StoredMessage> MysqlStore::find_by_dedup_keys(const std::vector<std::string>& keys) {
  std::vector<StoredMessage> out;
  if (keys.empty()) return out;
  std::vector<std::string> hashes;
  hashes.reserve(keys.size());
  for (auto& k : keys) hashes.push_back(dedup_hash(k));
  std::unordered_set<std::string_view> wanted(keys.begin(), keys.end());
  // Chunks of a few fixed sizes (the last one padded with a repeated hash), so each connection
  // prepares at most four statements however the batches vary.
  constexpr std::size_t kSizes[] = {1, 8, 32, 128};
  for (std::size_t at = 0; at < hashes.size();) {
    std::size_t left = hashes.size() - at, n = kSizes[3];
    for (auto size : kSizes)
      if (size >= left) {
        n = size;
        break;
      }
    std::string sql =
        "SELECT room_id, seq, user_id, username, content, timestamp_ms, client_id, dedup_key "
        "FROM messages WHERE dedup_hash IN (?";
    for (std::size_t i = 1; i < n; ++i) sql += ",?";
    sql += ")";
    std::vector<MysqlParam> params;
    for (std::size_t i = 0; i < n; ++i)
      params.emplace_back(std::string_view(hashes[at + std::min(i, left - 1)]));
    auto rows =
        pool_.with_retry([&](MysqlConnection& c, int) { return c.execute(sql, params).rows; });
    for (auto& row : rows) {
      // A hash names its key almost surely; the key itself decides.
      if (!row[7] || !wanted.count(*row[7])) continue;
      out.push_back(StoredMessage{row[0].value_or(""), to_u64(row[1]), to_i64(row[2]),
                                  row[3].value_or(""), row[4].value_or(""), to_i64(row[5]),
                                  row[6].value_or(""), *row[7]});
    }
    at += std::min(n, left);
  }
  return out;
}

// One multi-row INSERT for `n` rows. Duplicates do not fail the statement (the no-op
// ON DUPLICATE KEY UPDATE); the caller verifies them, because a duplicate is either our own
// earlier commit (fine) or a conflict (the batch must fail).
void MysqlStore::insert_chunk(MysqlConnection& c, const StoredMessage* rows, std::size_t n) {
  std::string sql =
      "INSERT INTO messages (room_id, seq, user_id, username, content, timestamp_ms, client_id, "
      "dedup_key, dedup_hash) VALUES ";
  for (std::size_t i = 0; i < n; ++i) sql += i ? ",(?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?)";
  sql += " ON DUPLICATE KEY UPDATE seq = seq";

  std::vector<std::string> hashes;
  hashes.reserve(n);
  std::vector<MysqlParam> params;
  params.reserve(n * 9);
  for (std::size_t i = 0; i < n; ++i) {
    auto& m = rows[i];
    hashes.push_back(dedup_hash(m.dedup_key));
    params.insert(params.end(),
                  {std::string_view(m.room_id), m.seq, m.user_id, std::string_view(m.username),
                   std::string_view(m.content), m.timestamp_ms, std::string_view(m.client_id),
                   std::string_view(m.dedup_key), std::string_view(hashes.back())});
  }
  auto r = c.execute(sql, params);
  if (r.affected_rows == n) return;  // the common case: every row is new

  for (std::size_t i = 0; i < n; ++i) {
    auto& m = rows[i];
    auto found = c.execute("SELECT room_id, seq, dedup_key FROM messages WHERE dedup_hash = ?",
                           {std::string_view(hashes[i])});
    bool ours = !found.rows.empty() && found.rows[0][0] == m.room_id &&
                to_u64(found.rows[0][1]) == m.seq && found.rows[0][2] == m.dedup_key;
    if (!ours)
      throw StoreError("mysql: message " + m.room_id + "/" + std::to_string(m.seq) +
                       " conflicts with a stored message (sequence or idempotency key taken)");
  }
}

void MysqlStore::append_messages(const std::vector<StoredMessage>& messages) {
  if (messages.empty()) return;
  pool_.with_retry([&](MysqlConnection& c, int) {
    c.begin();
    try {
      // Chunks of 32 rows, the rest in power-of-two chunks: at most six statement shapes are
      // prepared per connection whatever the batch sizes.
      std::size_t i = 0, left = messages.size();
      while (left > 0) {
        std::size_t n = 32;
        while (n > left) n /= 2;
        insert_chunk(c, messages.data() + i, n);
        i += n;
        left -= n;
      }
      if (advance_senders_) upsert_read_positions(c, senders_newest(messages));
      c.commit();
    } catch (...) {
      c.rollback();
      throw;
    }
  });
}

std::vector<StoredMessage> MysqlStore::messages_between(const std::string& room_id,
                                                        uint64_t after_seq, uint64_t before_seq,
                                                        int limit) {
  return pool_.with_retry([&](MysqlConnection& c, int) {
    auto r = c.execute(
        "SELECT seq, user_id, username, content, timestamp_ms, client_id FROM messages "
        "WHERE room_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        {room_id, after_seq, before_seq, int64_t{std::max(0, limit)}});
    std::vector<StoredMessage> out;
    out.reserve(r.rows.size());
    for (auto& row : r.rows)
      out.push_back({room_id,
                     to_u64(row[0]),
                     to_i64(row[1]),
                     row[2].value_or(""),
                     row[3].value_or(""),
                     to_i64(row[4]),
                     row[5].value_or(""),
                     {}});
    return out;
  });
}

}  // namespace roomcast
