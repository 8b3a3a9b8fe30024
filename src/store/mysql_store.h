// The Store of the distributed mode on MySQL/MariaDB: the same behaviour as SqliteStore (the
// reference), over a MysqlPool with prepared statements. The schema is created or migrated by
// the constructor. Sessions are not here: they live in Redis (RedisSessionStore).
#pragma once

#include "store/mysql_pool.h"
#include "store/store.h"

namespace roomcast {

class MysqlStore final : public Store {
 public:
  explicit MysqlStore(MysqlPool& pool);

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
  std::vector<StoredMessage> find_by_dedup_keys(const std::vector<std::string>& keys) override;
  // All or nothing, and idempotent: rows already stored with the same idempotency key at the same
  // place (a retry after a commit whose acknowledgement was lost) are accepted; a row whose key
  // or (room, seq) is taken by a different message fails the whole batch.
  void append_messages(const std::vector<StoredMessage>& messages) override;
  // From now on append_messages also moves each sender's read position to its newest message,
  // in the same transaction (Job: one commit per batch instead of two). The read_positions
  // table must exist (construct MysqlPresenceStore first). Call before sharing the store.
  void advance_senders_on_append() { advance_senders_ = true; }
  std::vector<StoredMessage> messages_between(const std::string& room_id, uint64_t after_seq,
                                              uint64_t before_seq, int limit) override;

  // Drops every table (tests only).
  void drop_all_for_tests();

 private:
  void migrate();
  bool advance_senders_ = false;
  void insert_chunk(MysqlConnection& c, const StoredMessage* rows, std::size_t n);

  MysqlPool& pool_;
};

}  // namespace roomcast
