// PresenceStore on MySQL/MariaDB (the distributed mode): read positions in a table of their own,
// member lists from the tables of MysqlStore. Logic (mark read, member lists) and Job (a
// sender's position on post) share it. Thread-safe (the pool is).
#pragma once

#include "store/mysql_pool.h"
#include "store/presence_store.h"

namespace roomcast {

// Moves read positions forward inside the caller's transaction on `c` (MysqlPresenceStore's
// advance_reads, and MysqlStore's append_messages for the senders). Any thread.
void upsert_read_positions(MysqlConnection& c, const std::vector<ReadAdvance>& moves);

class MysqlPresenceStore final : public PresenceStore {
 public:
  // Creates the read positions table and the member list index when missing. The tables of
  // MysqlStore must exist (construct MysqlStore first).
  explicit MysqlPresenceStore(MysqlPool& pool);

  std::vector<std::pair<std::string, uint64_t>> read_positions(int64_t user_id) override;
  uint64_t advance_read(int64_t user_id, const std::string& room_id, uint64_t seq) override;
  // One multi-row statement per 32 positions, in one transaction (not one per position).
  void advance_reads(const std::vector<ReadAdvance>& moves) override;
  std::vector<User> room_members(const std::string& room_id, bool default_room, int64_t after_user,
                                 int limit) override;
  int64_t count_room_members(const std::string& room_id, bool default_room) override;

 private:
  void migrate();

  MysqlPool& pool_;
};

}  // namespace roomcast
