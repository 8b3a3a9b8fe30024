// Presence data of standalone mode in the same SQLite file as everything else, through
// SqliteStore's connection: read positions and member lists.
#pragma once

#include <string>

#include "store/presence_store.h"
#include "store/sqlite_store.h"

namespace roomcast {

class SqlitePresenceStore final : public PresenceStore {
 public:
  // Adds its tables to the store's file (whose users and memberships tables it reads).
  explicit SqlitePresenceStore(SqliteStore& store);

  std::vector<std::pair<std::string, uint64_t>> read_positions(int64_t user_id) override;
  uint64_t advance_read(int64_t user_id, const std::string& room_id, uint64_t seq) override;
  std::vector<User> room_members(const std::string& room_id, bool default_room, int64_t after_user,
                                 int limit) override;
  int64_t count_room_members(const std::string& room_id, bool default_room) override;

 private:
  SqliteStore& store_;
};

}  // namespace roomcast
