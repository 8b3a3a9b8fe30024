// Where a comet hands the notices it delivered to its own connections so that the other comets
// deliver them too (distributed mode): serverTyping, serverReadState and the named changes of
// serverPresence. Standalone has one comet and no relay.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/user.h"

namespace roomcast {

class NoticeRelay {
 public:
  virtual ~NoticeRelay() = default;
  // Every call may come from any thread and never blocks: notices are ephemeral, and one that
  // cannot be relayed (Logic or the queue down) is dropped.
  // `event` to the room's member connections on the other comets, except `except_user`'s.
  virtual void room_notice(const std::string& room_id, const std::string& event,
                           int64_t except_user) = 0;
  // `event` to the user's connections on the other comets that have shown the room.
  virtual void user_notice(int64_t user_id, const std::string& room_id,
                           const std::string& event) = 0;
  // Members of the room who came online / went offline on this comet in the last window.
  virtual void presence_changes(const std::string& room_id, std::vector<User> joined,
                                std::vector<User> left) = 0;
};

}  // namespace roomcast
