#include "comet/remote_presence.h"

#include <algorithm>

namespace roomcast {

bool RemotePresence::add(const std::string& room_id, const std::string& origin, const User& user) {
  auto& member = rooms_[room_id][user.id];
  member.user = user;
  bool first = member.origins.empty();
  if (std::find(member.origins.begin(), member.origins.end(), origin) == member.origins.end())
    member.origins.push_back(origin);
  return first;
}

bool RemotePresence::remove(const std::string& room_id, const std::string& origin,
                            int64_t user_id) {
  auto room = rooms_.find(room_id);
  if (room == rooms_.end()) return true;
  auto member = room->second.find(user_id);
  if (member == room->second.end()) return true;
  std::erase(member->second.origins, origin);
  if (!member->second.origins.empty()) return false;
  room->second.erase(member);
  if (room->second.empty()) rooms_.erase(room);
  return true;
}

bool RemotePresence::online_elsewhere(const std::string& room_id, int64_t user_id) const {
  auto room = rooms_.find(room_id);
  return room != rooms_.end() && room->second.count(user_id) > 0;
}

void RemotePresence::drop_room(const std::string& room_id) {
  rooms_.erase(room_id);
}

std::vector<std::pair<std::string, User>> RemotePresence::forget_comet(const std::string& origin) {
  std::vector<std::pair<std::string, User>> gone;
  for (auto room = rooms_.begin(); room != rooms_.end();) {
    auto& members = room->second;
    for (auto m = members.begin(); m != members.end();) {
      auto& origins = m->second.origins;
      if (std::erase(origins, origin) > 0 && origins.empty()) {
        gone.emplace_back(room->first, m->second.user);
        m = members.erase(m);
      } else {
        ++m;
      }
    }
    room = members.empty() ? rooms_.erase(room) : std::next(room);
  }
  return gone;
}

}  // namespace roomcast
