#include "logic/presence_service.h"

#include <algorithm>

namespace roomcast {

bool PresenceService::is_default_room(const std::string& room_id) const {
  return std::any_of(config_.default_rooms.begin(), config_.default_rooms.end(),
                     [&](const RoomConfig& r) { return r.id == room_id; });
}

std::vector<uint64_t> PresenceService::read_positions(int64_t user_id,
                                                      const std::vector<std::string>& room_ids) {
  std::vector<uint64_t> out(room_ids.size(), 0);
  if (room_ids.empty()) return out;
  for (auto& [room, seq] : presence_.read_positions(user_id)) {
    auto it = std::find(room_ids.begin(), room_ids.end(), room);
    if (it != room_ids.end()) out[static_cast<std::size_t>(it - room_ids.begin())] = seq;
  }
  return out;
}

ReadState PresenceService::mark_read(int64_t user_id, const std::string& room_id, uint64_t seq) {
  uint64_t latest = store_.last_seq(room_id);
  uint64_t stored = presence_.advance_read(user_id, room_id, std::min(seq, latest));
  return {stored, unread_between(stored, latest)};
}

std::vector<User> PresenceService::room_members(const std::string& room_id, int64_t after_user,
                                                int limit) {
  return presence_.room_members(room_id, is_default_room(room_id), after_user, limit);
}

int64_t PresenceService::member_count(const std::string& room_id) {
  return presence_.count_room_members(room_id, is_default_room(room_id));
}

void PresenceService::messages_persisted(std::span<const StoredMessage> messages) {
  presence_.advance_reads(senders_newest(messages));
}

}  // namespace roomcast
