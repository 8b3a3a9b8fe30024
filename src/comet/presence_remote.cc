// PresenceTracker in the distributed mode: the named changes it hands to the other comets and
// the ones it merges from them (comet/remote_presence.h keeps who is online elsewhere).
#include "comet/presence_tracker.h"

namespace roomcast {

bool PresenceTracker::online_here(int64_t user_id, const std::string& room_id) {
  auto u = users_.find(user_id);
  return u != users_.end() && u->second.rooms.count(room_id) > 0;  // connected or in its grace
}

void PresenceTracker::take_local_changes(RoomEntry& room, Outgoing& out) const {
  if (!is_large(room))
    for (auto& [id, change] : room.local_changes)
      (change.second > 0 ? out.joined : out.left).push_back(change.first);
  room.local_changes.clear();
}

void PresenceTracker::merge_remote(const std::string& room_id, const std::string& origin,
                                   const std::vector<User>& joined, const std::vector<User>& left) {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;  // no member online here: nobody to tell
  auto& room = it->second;
  if (is_large(room)) return;  // counts only
  bool changed = false;
  for (auto& u : joined) {
    if (!remote_.add(room_id, origin, u) || online_here(u.id, room_id)) continue;
    note_change(room.changes, u, 1);
    changed = true;
  }
  for (auto& u : left) {
    if (!remote_.remove(room_id, origin, u.id) || online_here(u.id, room_id)) continue;
    note_change(room.changes, u, -1);
    changed = true;
  }
  if (changed) mark_due(room_id, room);
}

void PresenceTracker::forget_comet(const std::string& origin) {
  std::lock_guard lock(mutex_);
  for (auto& [room_id, user] : remote_.forget_comet(origin)) {
    auto it = rooms_.find(room_id);
    if (it == rooms_.end() || online_here(user.id, room_id)) continue;
    note_change(it->second.changes, user, -1);
    mark_due(room_id, it->second);
  }
}

}  // namespace roomcast
