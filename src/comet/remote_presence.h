// Who is online in a room on the other comets, by name, as their relayed presence changes said
// (distributed mode): per room, each user with the comets that reported it online. A user is
// named as joined when its first comet reports it and as left when its last one does, so a
// user online on two comets who closes one is not "left". Not thread-safe: PresenceTracker
// holds it under its own mutex.
//
// Known from relays only: a room's entry starts empty when this comet's first member enters
// it, so a user already online elsewhere then is unknown until it changes; a "left" of an
// unknown user is trusted as it comes.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/user.h"

namespace roomcast {

class RemotePresence {
 public:
  // `origin` reports `user` online in the room. True when no comet had it before.
  bool add(const std::string& room_id, const std::string& origin, const User& user);
  // `origin` reports `user_id` offline. True when no comet has it any more (or none had it).
  bool remove(const std::string& room_id, const std::string& origin, int64_t user_id);
  // Whether some other comet has the user online in the room.
  bool online_elsewhere(const std::string& room_id, int64_t user_id) const;
  // This comet no longer holds the room: forget it.
  void drop_room(const std::string& room_id);
  // `origin` stopped reporting (dead and swept): the (room, user) pairs it was the last for.
  std::vector<std::pair<std::string, User>> forget_comet(const std::string& origin);

 private:
  struct Member {
    User user;
    std::vector<std::string> origins;  // usually one
  };
  std::unordered_map<std::string, std::unordered_map<int64_t, Member>> rooms_;
};

}  // namespace roomcast
