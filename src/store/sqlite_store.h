// The embedded store of standalone mode: one SQLite file in WAL mode holding users, sessions,
// rooms, memberships and messages. One connection behind a mutex: SQLite serialises writers
// anyway, and every statement here is a short indexed lookup or a batched insert.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace roomcast {

class SqliteStmt;

class SqliteStore final : public Store, public SessionStore {
 public:
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;

  CreateUserResult create_user(const std::string& username, const std::string& email,
                               const std::string& password_hash, int64_t& id_out) override;
  CreateUserResult account_conflict(const std::string& username, const std::string& email) override;
  std::optional<UserCredentials> find_user_by_email(const std::string& email) override;
  std::optional<User> find_user(int64_t id) override;
  void ensure_room(const RoomInfo& room) override;
  bool create_room(const RoomInfo& room, int64_t creator) override;
  std::optional<RoomInfo> find_room(const std::string& id) override;
  std::vector<RoomInfo> find_rooms(const std::vector<std::string>& ids) override;
  std::vector<Membership> memberships(int64_t user_id) override;
  void set_membership(int64_t user_id, const std::string& room_id, bool joined) override;
  uint64_t last_seq(const std::string& room_id) override;
  std::optional<StoredMessage> find_by_dedup_key(const std::string& key) override;
  void append_messages(const std::vector<StoredMessage>& messages) override;
  std::vector<StoredMessage> messages_between(const std::string& room_id, uint64_t after_seq,
                                              uint64_t before_seq, int limit) override;

  void create_session(const std::string& sid, int64_t user_id, int64_t expires_at_ms) override;
  std::optional<int64_t> session_user(const std::string& sid, int64_t now_ms) override;
  void revoke_session(const std::string& sid) override;

  // Runs `f(sqlite3*)` under this store's lock. Other stores on the same file (presence) share
  // this one connection: a second connection's writes would make this one's open snapshots
  // stale, and its next write would fail at once with SQLITE_BUSY.
  template <class F>
  auto with_connection(F&& f) {
    std::lock_guard lock(mutex_);
    return f(db_);
  }

 private:
  class Lease;
  Lease stmt(const char* sql);
  void exec(const char* sql);
  void migrate();

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::vector<std::pair<const char*, std::unique_ptr<SqliteStmt>>> cache_;
};

}  // namespace roomcast
