#include "common/events.h"

#include "common/ids.h"
#include "common/json_write.h"

namespace roomcast {
namespace {

void append_user(std::string& out, int64_t id, const std::string& name) {
  out += "{\"id\":";
  append_int(out, id);
  out += ",\"username\":";
  append_json_string(out, name);
  out += '}';
}

void append_messages(std::string& out, auto&& messages) {
  out += '[';
  bool first = true;
  for (auto& m : messages) {
    if (!first) out += ',';
    first = false;
    append_server_message(out, m);
  }
  out += ']';
}

void append_room_page(std::string& out, const RoomPage& page) {
  out += "{\"id\":";
  append_json_string(out, page.room.id);
  out += ",\"name\":";
  append_json_string(out, page.room.name);
  out += ",\"messages\":";
  append_messages(out, page.messages);
  out += ",\"hasMoreMessages\":";
  out += page.has_more ? "true" : "false";
  out += ",\"online\":";
  append_int(out, page.online);
  out += ",\"lastReadId\":\"";
  append_message_id(out, page.last_read_seq);
  out += "\",\"unread\":";
  append_int(out, page.unread);
  out += '}';
}

std::string begin(const char* type) {
  std::string out;
  out.reserve(256);
  out += "{\"type\":\"";
  out += type;
  out += "\",\"payload\":";
  return out;
}

}  // namespace

void append_server_message(std::string& out, const StoredMessage& m) {
  out += "{\"id\":\"";
  append_message_id(out, m.seq);
  out += "\",\"user\":";
  append_user(out, m.user_id, m.username);
  out += ",\"content\":";
  append_json_string(out, m.content);
  out += ",\"timestamp\":";
  append_int(out, m.timestamp_ms);
  if (!m.client_id.empty()) {
    out += ",\"clientId\":";
    append_json_string(out, m.client_id);
  }
  out += '}';
}

bool trim_to_bytes(std::vector<StoredMessage>& newest_first, std::size_t max_bytes) {
  std::string scratch;
  std::size_t total = 0;
  for (std::size_t i = 0; i < newest_first.size(); ++i) {
    scratch.clear();
    append_server_message(scratch, newest_first[i]);
    total += scratch.size() + 1;  // and its comma
    if (total > max_bytes && i > 0) {
      newest_first.resize(i);
      return true;
    }
  }
  return false;
}

std::string hello_event(const User& me, const std::vector<RoomPage>& rooms) {
  auto out = begin("hello");
  out += "{\"me\":";
  append_user(out, me.id, me.username);
  out += ",\"rooms\":[";
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    if (i) out += ',';
    append_room_page(out, rooms[i]);
  }
  out += "]}}";
  return out;
}

std::string server_messages_event(const std::string& room_id,
                                  std::span<const StoredMessage> messages) {
  auto out = begin("serverMessages");
  out.reserve(out.size() + messages.size() * 160);
  out += "{\"roomId\":";
  append_json_string(out, room_id);
  out += ",\"messages\":";
  append_messages(out, messages);
  out += "}}";
  return out;
}

std::string room_history_event(const std::string& room_id,
                               const std::vector<StoredMessage>& newest_first, bool has_more,
                               bool resume) {
  auto out = begin("serverRoomHistory");
  out += "{\"roomId\":";
  append_json_string(out, room_id);
  out += ",\"messages\":";
  append_messages(out, newest_first);
  out += ",\"hasMoreMessages\":";
  out += has_more ? "true" : "false";
  if (resume) out += ",\"resume\":true";
  out += "}}";
  return out;
}

std::string create_room_event(const RoomInfo& room) {
  auto out = begin("serverCreateRoom");
  out += "{\"roomId\":";
  append_json_string(out, room.id);
  out += ",\"roomName\":";
  append_json_string(out, room.name);
  out += "}}";
  return out;
}

std::string joined_room_event(const RoomPage& page) {
  auto out = begin("serverJoinedRoom");
  out += "{\"room\":";
  append_room_page(out, page);
  out += "}}";
  return out;
}

std::string left_room_event(const std::string& room_id) {
  auto out = begin("serverLeftRoom");
  out += "{\"roomId\":";
  append_json_string(out, room_id);
  out += "}}";
  return out;
}

std::string push_event(int64_t op, const std::string& body_json) {
  auto out = begin("serverPush");
  out += "{\"op\":";
  append_int(out, op);
  out += ",\"body\":";
  out += body_json;
  out += "}}";
  return out;
}

std::string error_event(const std::string& code, const std::string& message,
                        const std::string& request_type, int64_t retry_after_ms) {
  auto out = begin("serverError");
  out += "{\"code\":";
  append_json_string(out, code);
  out += ",\"message\":";
  append_json_string(out, message);
  out += ",\"requestType\":";
  append_json_string(out, request_type);
  if (retry_after_ms > 0) out += ",\"retryAfterMs\":" + std::to_string(retry_after_ms);
  out += "}}";
  return out;
}

}  // namespace roomcast
