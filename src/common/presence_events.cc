#include "common/presence_events.h"

#include "common/ids.h"
#include "common/json_write.h"

namespace roomcast {
namespace {

std::string begin(const char* type, const std::string& room_id) {
  std::string out;
  out.reserve(128);
  out += "{\"type\":\"";
  out += type;
  out += "\",\"payload\":{\"roomId\":";
  append_json_string(out, room_id);
  return out;
}

void append_user(std::string& out, const User& u) {
  out += "{\"id\":";
  append_int(out, u.id);
  out += ",\"username\":";
  append_json_string(out, u.username);
  out += '}';
}

void append_users(std::string& out, const std::vector<User>& users) {
  out += '[';
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (i) out += ',';
    append_user(out, users[i]);
  }
  out += ']';
}

}  // namespace

std::string presence_event(const std::string& room_id, int64_t online,
                           const std::vector<User>& joined, const std::vector<User>& left) {
  auto out = begin("serverPresence", room_id);
  out += ",\"online\":";
  append_int(out, online);
  out += ",\"joined\":";
  append_users(out, joined);
  out += ",\"left\":";
  append_users(out, left);
  out += "}}";
  return out;
}

std::string room_members_event(const std::string& room_id, const std::vector<MemberEntry>& members,
                               const std::string& next) {
  auto out = begin("serverRoomMembers", room_id);
  out += ",\"members\":[";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i) out += ',';
    out += "{\"user\":";
    append_user(out, members[i].user);
    out += members[i].online ? ",\"online\":true}" : ",\"online\":false}";
  }
  out += ']';
  if (!next.empty()) {
    out += ",\"next\":";
    append_json_string(out, next);
  }
  out += "}}";
  return out;
}

std::string typing_event(const std::string& room_id, const User& user) {
  auto out = begin("serverTyping", room_id);
  out += ",\"user\":";
  append_user(out, user);
  out += "}}";
  return out;
}

std::string read_state_event(const std::string& room_id, uint64_t last_read_seq, int64_t unread) {
  auto out = begin("serverReadState", room_id);
  out += ",\"lastReadId\":\"";
  append_message_id(out, last_read_seq);
  out += "\",\"unread\":";
  append_int(out, unread);
  out += "}}";
  return out;
}

std::string users_presence_json(const std::vector<UserPresence>& users) {
  std::string out = "{\"users\":[";
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (i) out += ',';
    out += "{\"id\":";
    append_int(out, users[i].id);
    out += users[i].online ? ",\"online\":true" : ",\"online\":false";
    out += ",\"connections\":";
    append_int(out, users[i].connections);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string room_presence_json(const std::string& room_id, int64_t online) {
  std::string out = "{\"roomId\":";
  append_json_string(out, room_id);
  out += ",\"online\":";
  append_int(out, online);
  out += '}';
  return out;
}

}  // namespace roomcast
