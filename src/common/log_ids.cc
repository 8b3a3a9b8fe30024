#include "common/log_ids.h"

#include "common/ids.h"
#include "common/json_log.h"

namespace roomcast {
namespace {

// Room ids come from clients too (a message to an unknown room is logged with the id it named):
// at most this many bytes are logged.
constexpr std::size_t kRoomShown = 64;

std::string_view shown_room(std::string_view room) {
  return room.substr(0, kRoomShown);
}

}  // namespace

void append_log_ids_json(std::string& out, const LogIds& ids) {
  if (ids.user_id != 0) out += ",\"user\":" + std::to_string(ids.user_id);
  if (!ids.room_id.empty()) {
    out += ",\"room\":";
    append_json_text(out, shown_room(ids.room_id));
  }
  if (ids.seq != 0) {
    out += ",\"msg\":\"";
    append_message_id(out, ids.seq);
    out += '"';
  }
  if (ids.trace_id) {
    out += ",\"trace\":\"";
    ids.trace_id.append_to(out);
    out += '"';
  }
}

void append_log_ids_text(std::string& out, const LogIds& ids) {
  if (ids.user_id != 0) out += " user=" + std::to_string(ids.user_id);
  if (!ids.room_id.empty()) {
    out += " room=";
    // One token per field on one line: spaces and control characters become '?'.
    for (unsigned char c : shown_room(ids.room_id))
      out += (c <= 0x20 || c == 0x7F) ? '?' : static_cast<char>(c);
  }
  if (ids.seq != 0) {
    out += " msg=";
    append_message_id(out, ids.seq);
  }
  if (ids.trace_id) {
    out += " trace=";
    ids.trace_id.append_to(out);
  }
}

}  // namespace roomcast
