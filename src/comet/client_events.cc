#include "comet/client_events.h"

#include <boost/json.hpp>

#include <unordered_set>

#include "common/room_id.h"
#include "common/validation.h"

namespace roomcast {
namespace json = boost::json;
namespace {

struct Bad {
  std::string message;
};

const json::object& payload_of(const json::object& root) {
  auto it = root.find("payload");
  if (it == root.end() || !it->value().is_object()) throw Bad{"payload must be an object"};
  return it->value().get_object();
}

std::string req_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) throw Bad{std::string(key) + " must be a string"};
  return std::string(it->value().get_string());
}

std::optional<std::string> opt_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) throw Bad{std::string(key) + " must be a string"};
  return std::string(it->value().get_string());
}

const json::array& req_array(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_array()) throw Bad{std::string(key) + " must be an array"};
  return it->value().get_array();
}

// A roomId, checked for shape before anything looks it up (docs/protocol.md, Limits).
std::string req_room_id(const json::object& o) {
  auto id = req_string(o, "roomId");
  if (!valid_room_id(id)) throw Bad{"roomId must be 1-64 characters of [A-Za-z0-9_.-]"};
  return id;
}

// Counts code points; `what` names the field in the error.
void check_length(std::string_view s, std::size_t min, std::size_t max, const char* what) {
  auto n = utf8_length(s);
  if (!n || *n < min || *n > max)
    throw Bad{std::string(what) + " must be " + std::to_string(min) + "-" + std::to_string(max) +
              " characters"};
}

void parse_messages(const json::object& p, ClientEvent& ev, std::size_t max_messages) {
  ev.room_id = req_room_id(p);
  auto& msgs = req_array(p, "messages");
  if (msgs.empty()) throw Bad{"messages must not be empty"};
  if (msgs.size() > max_messages)
    throw Bad{"at most " + std::to_string(max_messages) + " messages per event"};
  for (auto& m : msgs) {
    if (!m.is_object()) throw Bad{"each message must be an object"};
    auto& mo = m.get_object();
    ClientMessage cm;
    cm.content = req_string(mo, "content");
    if (auto client_id = opt_string(mo, "clientId")) {
      check_length(*client_id, 1, 64, "clientId");
      cm.client_id = std::move(*client_id);
    }
    ev.messages.push_back(std::move(cm));
  }
}

void parse_history(const json::object& p, ClientEvent& ev) {
  ev.room_id = req_room_id(p);
  ev.first_message_id = opt_string(p, "firstMessageId");
  if (auto it = p.find("count"); it != p.end() && !it->value().is_null()) {
    if (it->value().is_int64())
      ev.count = it->value().get_int64();
    else if (it->value().is_uint64())
      ev.count = INT64_MAX;
    else
      throw Bad{"count must be an integer"};
  }
}

// Entries are deduplicated (the first of a room counts); a malformed roomId fails only its
// entry, which is answered with BAD_REQUEST and never looked up.
void parse_resume(const json::object& p, ClientEvent& ev) {
  auto& rooms = req_array(p, "rooms");
  std::unordered_set<std::string_view> seen;
  for (auto& r : rooms) {
    if (!r.is_object()) throw Bad{"each resume entry must be an object"};
    auto& ro = r.get_object();
    auto room_id = req_string(ro, "roomId");
    auto last = req_string(ro, "lastMessageId");
    if (!seen.insert(ro.at("roomId").get_string()).second) continue;
    bool ok = valid_room_id(room_id);
    ev.resume.push_back({std::move(room_id), std::move(last), ok});
  }
}

// clientTyping, clientMarkRead, requestRoomMembers; false for any other type.
bool parse_presence_event(const json::object& obj, ClientEvent& ev) {
  if (ev.type == "clientTyping") {
    ev.kind = ClientEvent::Kind::kTyping;
    ev.room_id = req_room_id(payload_of(obj));
  } else if (ev.type == "clientMarkRead") {
    ev.kind = ClientEvent::Kind::kMarkRead;
    auto& p = payload_of(obj);
    ev.room_id = req_room_id(p);
    ev.last_message_id = req_string(p, "lastMessageId");
  } else if (ev.type == "requestRoomMembers") {
    ev.kind = ClientEvent::Kind::kRoomMembers;
    auto& p = payload_of(obj);
    ev.room_id = req_room_id(p);
    ev.after = opt_string(p, "after");
  } else {
    return false;
  }
  return true;
}

}  // namespace

ParsedClientEvent parse_client_event(std::string_view frame, std::size_t max_messages) {
  json::value root;
  try {
    json::parse_options opts;
    opts.max_depth = 16;
    json::monotonic_resource mr;
    // Copy out of the monotonic arena: the event outlives this function.
    root = json::value(json::parse(frame, &mr, opts));
  } catch (const std::exception&) {
    return {std::nullopt, ParseError{"BAD_REQUEST", "the frame is not valid JSON", ""}};
  }
  if (!root.is_object())
    return {std::nullopt, ParseError{"BAD_REQUEST", "an event must be a JSON object", ""}};
  auto& obj = root.get_object();
  auto type_it = obj.find("type");
  if (type_it == obj.end() || !type_it->value().is_string())
    return {std::nullopt, ParseError{"BAD_REQUEST", "type must be a string", ""}};
  ClientEvent ev;
  ev.type = std::string(type_it->value().get_string());
  try {
    if (ev.type == "clientMessages") {
      ev.kind = ClientEvent::Kind::kMessages;
      parse_messages(payload_of(obj), ev, max_messages);
    } else if (ev.type == "requestRoomHistory") {
      ev.kind = ClientEvent::Kind::kHistory;
      parse_history(payload_of(obj), ev);
    } else if (ev.type == "clientCreateRoom") {
      ev.kind = ClientEvent::Kind::kCreateRoom;
      ev.room_name = req_string(payload_of(obj), "roomName");
      check_length(ev.room_name, 1, 64, "roomName");
    } else if (ev.type == "clientJoinRoom" || ev.type == "clientLeaveRoom") {
      ev.kind = ev.type == "clientJoinRoom" ? ClientEvent::Kind::kJoinRoom
                                            : ClientEvent::Kind::kLeaveRoom;
      ev.room_id = req_room_id(payload_of(obj));
    } else if (ev.type == "clientResume") {
      ev.kind = ClientEvent::Kind::kResume;
      parse_resume(payload_of(obj), ev);
    } else if (!parse_presence_event(obj, ev)) {
      return {std::nullopt, ParseError{"UNKNOWN_TYPE", "unknown event type", ev.type}};
    }
  } catch (const Bad& b) {
    return {std::nullopt, ParseError{"BAD_REQUEST", b.message, ev.type}};
  }
  return {std::move(ev), std::nullopt};
}

}  // namespace roomcast
