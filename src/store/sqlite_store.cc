#include "store/sqlite_store.h"

#include <sqlite3.h>

#include "common/validation.h"
#include "store/sqlite_stmt.h"

namespace roomcast {

// A cached statement in use. The lease resets it when it ends: a statement left on a row keeps
// its read transaction open, and that snapshot pins the WAL (no checkpoint can pass it, so the
// -wal file grows without bound).
class SqliteStore::Lease {
 public:
  explicit Lease(SqliteStmt& s) : s_(s) {}
  ~Lease() { s_.reset(); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  SqliteStmt& reset() { return s_.reset(); }
  template <class T>
  SqliteStmt& bind(int i, const T& v) {
    return s_.bind(i, v);
  }
  bool step() { return s_.step(); }
  int run() { return s_.run(); }
  int64_t i64(int col) { return s_.i64(col); }
  std::string text(int col) { return s_.text(col); }

 private:
  SqliteStmt& s_;
};

SqliteStore::SqliteStore(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string err = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw StoreError("cannot open " + path + ": " + err);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  // NORMAL in WAL mode: a committed batch survives a process crash; only an OS crash can lose
  // the last transactions.
  exec("PRAGMA synchronous=NORMAL");
  exec("PRAGMA foreign_keys=ON");
  migrate();
}

SqliteStore::~SqliteStore() {
  cache_.clear();
  sqlite3_close(db_);
}

void SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    throw StoreError(std::string("sqlite: ") + msg + " in " + sql);
  }
}

void SqliteStore::migrate() {
  exec(R"(CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL, username_key TEXT NOT NULL UNIQUE,
      email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      created_ms INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000));
    CREATE TABLE IF NOT EXISTS sessions (
      sid_key TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
      expires_ms INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions(expires_ms);
    CREATE TABLE IF NOT EXISTS rooms (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, creator_id INTEGER);
    CREATE TABLE IF NOT EXISTS memberships (
      user_id INTEGER NOT NULL, room_id TEXT NOT NULL, joined INTEGER NOT NULL,
      PRIMARY KEY (user_id, room_id));
    CREATE TABLE IF NOT EXISTS messages (
      room_id TEXT NOT NULL, seq INTEGER NOT NULL,
      user_id INTEGER NOT NULL, username TEXT NOT NULL, content TEXT NOT NULL,
      timestamp_ms INTEGER NOT NULL, client_id TEXT NOT NULL DEFAULT '',
      dedup_key TEXT NOT NULL UNIQUE,
      PRIMARY KEY (room_id, seq)) WITHOUT ROWID;)");
}

SqliteStore::Lease SqliteStore::stmt(const char* sql) {
  for (auto& [key, s] : cache_)
    if (key == sql) return Lease(s->reset());
  cache_.emplace_back(sql, std::make_unique<SqliteStmt>(db_, sql));
  return Lease(*cache_.back().second);
}

CreateUserResult SqliteStore::create_user(const std::string& username, const std::string& email,
                                          const std::string& password_hash, int64_t& id_out) {
  std::lock_guard lock(mutex_);
  auto s = stmt(
      "INSERT INTO users (username, username_key, email, email_key, password_hash) "
      "VALUES (?,?,?,?,?)");
  int rc = s.bind(1, username)
               .bind(2, fold_case(username))
               .bind(3, email)
               .bind(4, fold_case(email))
               .bind(5, password_hash)
               .run();
  if (rc == SQLITE_CONSTRAINT_UNIQUE) {
    std::string msg = sqlite3_errmsg(db_);
    return msg.find("username_key") != std::string::npos ? CreateUserResult::kUsernameExists
                                                         : CreateUserResult::kEmailExists;
  }
  if (rc != SQLITE_OK) throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  id_out = sqlite3_last_insert_rowid(db_);
  return CreateUserResult::kOk;
}

CreateUserResult SqliteStore::account_conflict(const std::string& username,
                                               const std::string& email) {
  std::lock_guard lock(mutex_);
  // Each statement is reset right away: a stepped one left pending would pin a WAL snapshot.
  auto by_email = stmt("SELECT 1 FROM users WHERE email_key = ?");
  bool email_taken = by_email.bind(1, fold_case(email)).step();
  by_email.reset();
  if (email_taken) return CreateUserResult::kEmailExists;
  auto by_name = stmt("SELECT 1 FROM users WHERE username_key = ?");
  bool name_taken = by_name.bind(1, fold_case(username)).step();
  by_name.reset();
  return name_taken ? CreateUserResult::kUsernameExists : CreateUserResult::kOk;
}

std::optional<UserCredentials> SqliteStore::find_user_by_email(const std::string& email) {
  std::lock_guard lock(mutex_);
  auto s = stmt("SELECT id, username, password_hash FROM users WHERE email_key = ?");
  s.bind(1, fold_case(email));
  if (!s.step()) return std::nullopt;
  return UserCredentials{{s.i64(0), s.text(1)}, s.text(2)};
}

std::optional<User> SqliteStore::find_user(int64_t id) {
  std::lock_guard lock(mutex_);
  auto s = stmt("SELECT id, username FROM users WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return User{s.i64(0), s.text(1)};
}

void SqliteStore::ensure_room(const RoomInfo& room) {
  std::lock_guard lock(mutex_);
  auto s = stmt(
      "INSERT INTO rooms (id, name) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET name = "
      "excluded.name");
  if (s.bind(1, room.id).bind(2, room.name).run() != SQLITE_OK)
    throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
}

bool SqliteStore::create_room(const RoomInfo& room, int64_t creator) {
  std::lock_guard lock(mutex_);
  auto s = stmt("INSERT INTO rooms (id, name, creator_id) VALUES (?, ?, ?)");
  int rc = s.bind(1, room.id).bind(2, room.name).bind(3, creator).run();
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) return false;
  if (rc != SQLITE_OK) throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return true;
}

std::optional<RoomInfo> SqliteStore::find_room(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto s = stmt("SELECT id, name FROM rooms WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return RoomInfo{s.text(0), s.text(1)};
}

std::vector<RoomInfo> SqliteStore::find_rooms(const std::vector<std::string>& ids) {
  std::lock_guard lock(mutex_);
  std::vector<RoomInfo> out;
  auto s = stmt("SELECT id, name FROM rooms WHERE id = ?");
  for (auto& id : ids) {
    s.reset().bind(1, id);
    if (s.step()) out.push_back({s.text(0), s.text(1)});
  }
  return out;
}

std::vector<Store::Membership> SqliteStore::memberships(int64_t user_id) {
  std::lock_guard lock(mutex_);
  auto s = stmt("SELECT room_id, joined FROM memberships WHERE user_id = ? ORDER BY rowid");
  s.bind(1, user_id);
  std::vector<Membership> out;
  while (s.step()) out.push_back({s.text(0), s.i64(1) != 0});
  return out;
}

void SqliteStore::set_membership(int64_t user_id, const std::string& room_id, bool joined) {
  std::lock_guard lock(mutex_);
  auto s = stmt(
      "INSERT INTO memberships (user_id, room_id, joined) VALUES (?,?,?) "
      "ON CONFLICT(user_id, room_id) DO UPDATE SET joined = excluded.joined");
  if (s.bind(1, user_id).bind(2, room_id).bind(3, int64_t{joined}).run() != SQLITE_OK)
    throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
}

uint64_t SqliteStore::last_seq(const std::string& room_id) {
  std::lock_guard lock(mutex_);
  auto s = stmt("SELECT MAX(seq) FROM messages WHERE room_id = ?");
  s.bind(1, room_id);
  return s.step() ? static_cast<uint64_t>(s.i64(0)) : 0;
}

std::optional<StoredMessage> SqliteStore::find_by_dedup_key(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto s = stmt(
      "SELECT room_id, seq, user_id, username, content, timestamp_ms, client_id FROM messages "
      "WHERE dedup_key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return StoredMessage{s.text(0), static_cast<uint64_t>(s.i64(1)),
                       s.i64(2),  s.text(3),
                       s.text(4), s.i64(5),
                       s.text(6), key};
}

void SqliteStore::append_messages(const std::vector<StoredMessage>& messages) {
  if (messages.empty()) return;
  std::lock_guard lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    auto s = stmt(
        "INSERT INTO messages (room_id, seq, user_id, username, content, timestamp_ms, "
        "client_id, dedup_key) VALUES (?,?,?,?,?,?,?,?)");
    for (auto& m : messages) {
      s.reset()
          .bind(1, m.room_id)
          .bind(2, static_cast<int64_t>(m.seq))
          .bind(3, m.user_id)
          .bind(4, m.username)
          .bind(5, m.content)
          .bind(6, m.timestamp_ms)
          .bind(7, m.client_id)
          .bind(8, m.dedup_key);
      if (s.run() != SQLITE_OK) throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<StoredMessage> SqliteStore::messages_between(const std::string& room_id,
                                                         uint64_t after_seq, uint64_t before_seq,
                                                         int limit) {
  std::lock_guard lock(mutex_);
  auto s = stmt(
      "SELECT seq, user_id, username, content, timestamp_ms, client_id FROM messages "
      "WHERE room_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?");
  s.bind(1, room_id)
      .bind(2, static_cast<int64_t>(after_seq))
      .bind(3, static_cast<int64_t>(before_seq > INT64_MAX ? INT64_MAX : before_seq))
      .bind(4, int64_t{limit});
  std::vector<StoredMessage> out;
  while (s.step())
    out.push_back({room_id,
                   static_cast<uint64_t>(s.i64(0)),
                   s.i64(1),
                   s.text(2),
                   s.text(3),
                   s.i64(4),
                   s.text(5),
                   {}});
  return out;
}

void SqliteStore::create_session(const std::string& sid, int64_t user_id, int64_t expires_at_ms) {
  std::lock_guard lock(mutex_);
  auto s = stmt("INSERT INTO sessions (sid_key, user_id, expires_ms) VALUES (?,?,?)");
  if (s.bind(1, sid).bind(2, user_id).bind(3, expires_at_ms).run() != SQLITE_OK)
    throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  // Expired sessions are purged as new ones are made, so the table does not grow forever.
  stmt("DELETE FROM sessions WHERE expires_ms < strftime('%s','now') * 1000").run();
}

std::optional<int64_t> SqliteStore::session_user(const std::string& sid, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto s = stmt("SELECT user_id FROM sessions WHERE sid_key = ? AND expires_ms > ?");
  s.bind(1, sid).bind(2, now_ms);
  if (!s.step()) return std::nullopt;
  return s.i64(0);
}

void SqliteStore::revoke_session(const std::string& sid) {
  std::lock_guard lock(mutex_);
  stmt("DELETE FROM sessions WHERE sid_key = ?").bind(1, sid).run();
}

}  // namespace roomcast
