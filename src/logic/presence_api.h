// The seam between Comet and the business layer for presence data that lives in storage: read
// positions and member lists (who is online lives in the comets). Standalone calls
// PresenceService directly. Calls may block (storage): Comet makes them off its I/O loops.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "domain/user.h"

namespace roomcast {

// `unread` is exact up to this, then this (docs/protocol.md).
constexpr int64_t kUnreadMax = 999;

inline int64_t unread_between(uint64_t last_read_seq, uint64_t latest_seq) {
  if (latest_seq <= last_read_seq) return 0;
  return static_cast<int64_t>(std::min<uint64_t>(latest_seq - last_read_seq, kUnreadMax));
}

struct ReadState {
  uint64_t last_read_seq = 0;  // 0: never read ("0-0")
  int64_t unread = 0;
};

class PresenceApi {
 public:
  virtual ~PresenceApi() = default;
  // The user's read position in each of `room_ids` (same order; 0 when never read).
  virtual std::vector<uint64_t> read_positions(int64_t user_id,
                                               const std::vector<std::string>& room_ids) = 0;
  // Moves the user's position in the room forward to `seq`, clamped to the room's latest
  // message; an older `seq` changes nothing. Returns the position now stored.
  virtual ReadState mark_read(int64_t user_id, const std::string& room_id, uint64_t seq) = 0;
  // Members with an id above `after_user`, ordered by id, at most `limit`.
  virtual std::vector<User> room_members(const std::string& room_id, int64_t after_user,
                                         int limit) = 0;
  virtual int64_t member_count(const std::string& room_id) = 0;
};

}  // namespace roomcast
