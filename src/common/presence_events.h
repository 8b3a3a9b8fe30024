// Serialisation of the presence, typing and read-state events (docs/protocol.md revision 3). Each
// function returns the complete event text; fan-out code serialises once and shares the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/user.h"

namespace roomcast {

// serverPresence: `joined`/`left` are empty in rooms that send counts only.
std::string presence_event(const std::string& room_id, int64_t online,
                           const std::vector<User>& joined, const std::vector<User>& left);

struct MemberEntry {
  User user;
  bool online = false;
};
// serverRoomMembers; `next` empty on the last page.
std::string room_members_event(const std::string& room_id, const std::vector<MemberEntry>& members,
                               const std::string& next);

std::string typing_event(const std::string& room_id, const User& user);

std::string read_state_event(const std::string& room_id, uint64_t last_read_seq, int64_t unread);

// The admin presence API's answers.
struct UserPresence {
  int64_t id = 0;
  bool online = false;
  int64_t connections = 0;
};
std::string users_presence_json(const std::vector<UserPresence>& users);
std::string room_presence_json(const std::string& room_id, int64_t online);

}  // namespace roomcast
