#include "comet/client_events.h"

#include <boost/json.hpp>

#include "common/room_id.h"

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
  if (it == o.end() || !it->value().is_string())
    throw Bad{std::string(key) + " must be a string"};
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

// The roomId of a presence request, checked against the room id rule (never looked up).
std::string presence_room_id(const json::object& payload) {
  auto id = req_string(payload, "roomId");
  if (!valid_room_id(id)) throw Bad{"roomId must be 1-64 characters of [A-Za-z0-9_.-]"};
  return id;
}

// clientTyping, clientMarkRead, requestRoomMembers; false for any other type.
bool parse_presence_event(const json::object& obj, ClientEvent& ev) {
  if (ev.type == "clientTyping") {
    ev.kind = ClientEvent::Kind::kTyping;
    ev.room_id = presence_room_id(payload_of(obj));
  } else if (ev.type == "clientMarkRead") {
    ev.kind = ClientEvent::Kind::kMarkRead;
    auto& p = payload_of(obj);
    ev.room_id = presence_room_id(p);
    ev.last_message_id = req_string(p, "lastMessageId");
  } else if (ev.type == "requestRoomMembers") {
    ev.kind = ClientEvent::Kind::kRoomMembers;
    auto& p = payload_of(obj);
    ev.room_id = presence_room_id(p);
    ev.after = opt_string(p, "after");
  } else {
    return false;
  }
  return true;
}

}  // namespace

ParsedClientEvent parse_client_event(std::string_view frame) {
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
      auto& p = payload_of(obj);
      ev.room_id = req_string(p, "roomId");
      auto& msgs = req_array(p, "messages");
      if (msgs.empty()) throw Bad{"messages must not be empty"};
      if (msgs.size() > 100) throw Bad{"at most 100 messages per event"};
      for (auto& m : msgs) {
        if (!m.is_object()) throw Bad{"each message must be an object"};
        auto& mo = m.get_object();
        ClientMessage cm;
        cm.content = req_string(mo, "content");
        cm.client_id = opt_string(mo, "clientId").value_or("");
        if (cm.client_id.size() > 128) throw Bad{"clientId is longer than 128 bytes"};
        ev.messages.push_back(std::move(cm));
      }
    } else if (ev.type == "requestRoomHistory") {
      ev.kind = ClientEvent::Kind::kHistory;
      auto& p = payload_of(obj);
      ev.room_id = req_string(p, "roomId");
      ev.first_message_id = opt_string(p, "firstMessageId");
      if (auto it = p.find("count"); it != p.end() && !it->value().is_null()) {
        if (it->value().is_int64()) ev.count = it->value().get_int64();
        else if (it->value().is_uint64()) ev.count = INT64_MAX;
        else throw Bad{"count must be an integer"};
      }
    } else if (ev.type == "clientCreateRoom") {
      ev.kind = ClientEvent::Kind::kCreateRoom;
      ev.room_name = req_string(payload_of(obj), "roomName");
    } else if (ev.type == "clientJoinRoom" || ev.type == "clientLeaveRoom") {
      ev.kind = ev.type == "clientJoinRoom" ? ClientEvent::Kind::kJoinRoom
                                            : ClientEvent::Kind::kLeaveRoom;
      ev.room_id = req_string(payload_of(obj), "roomId");
    } else if (ev.type == "clientResume") {
      ev.kind = ClientEvent::Kind::kResume;
      auto& rooms = req_array(payload_of(obj), "rooms");
      if (rooms.size() > 1000) throw Bad{"too many rooms"};
      for (auto& r : rooms) {
        if (!r.is_object()) throw Bad{"each resume entry must be an object"};
        auto& ro = r.get_object();
        ev.resume.push_back({req_string(ro, "roomId"), req_string(ro, "lastMessageId")});
      }
    } else if (!parse_presence_event(obj, ev)) {
      return {std::nullopt, ParseError{"UNKNOWN_TYPE", "unknown event type", ev.type}};
    }
  } catch (const Bad& b) {
    return {std::nullopt, ParseError{"BAD_REQUEST", b.message, ev.type}};
  }
  return {std::move(ev), std::nullopt};
}

}  // namespace roomcast
