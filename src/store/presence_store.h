// The storage seam of presence data: read positions per user and room, and member lists.
// Standalone keeps them in the SQLite file (sqlite_presence_store), the distributed mode in MySQL.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.h"

namespace roomcast {

// One read position to move forward (advance_reads).
struct ReadAdvance {
  int64_t user_id = 0;
  std::string room_id;
  uint64_t seq = 0;
};

// Each sender's newest seq per room among `messages`, in (user, room) order: where posting
// moves a sender's read position (one's own messages are never unread). Any thread.
inline std::vector<ReadAdvance> senders_newest(std::span<const StoredMessage> messages) {
  std::map<std::pair<int64_t, std::string_view>, uint64_t> newest;
  for (auto& m : messages) {
    auto& seq = newest[{m.user_id, m.room_id}];
    seq = std::max(seq, m.seq);
  }
  std::vector<ReadAdvance> moves;
  moves.reserve(newest.size());
  for (auto& [key, seq] : newest) moves.push_back({key.first, std::string(key.second), seq});
  return moves;
}

class PresenceStore {
 public:
  virtual ~PresenceStore() = default;
  // Every stored read position of the user: (room id, seq).
  virtual std::vector<std::pair<std::string, uint64_t>> read_positions(int64_t user_id) = 0;
  // Stores max(stored, seq) and returns it: positions only ever move forward.
  virtual uint64_t advance_read(int64_t user_id, const std::string& room_id, uint64_t seq) = 0;
  // Moves several positions forward at once (Job: the senders of a whole batch), as
  // advance_read does. This default moves them one by one.
  virtual void advance_reads(const std::vector<ReadAdvance>& moves) {
    for (auto& m : moves) advance_read(m.user_id, m.room_id, m.seq);
  }
  // Members (users of a default room who did not leave it, or who joined another room) with an
  // id above `after_user`, ordered by id.
  virtual std::vector<User> room_members(const std::string& room_id, bool default_room,
                                         int64_t after_user, int limit) = 0;
  virtual int64_t count_room_members(const std::string& room_id, bool default_room) = 0;
};

}  // namespace roomcast
