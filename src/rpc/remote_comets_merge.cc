#include "rpc/remote_comets_merge.h"

#include <string>
#include <unordered_map>

#include "comet/room_batches.h"
#include "common/events.h"

namespace roomcast {

namespace {

// Appends `next` to `joined`; event and trace ids are padded when one side had none.
void append(RoomMessages& joined, const RoomMessages& next) {
  std::size_t before = joined.messages.size();
  joined.messages.insert(joined.messages.end(), next.messages.begin(), next.messages.end());
  joined.event_ids.resize(before);
  joined.event_ids.insert(joined.event_ids.end(), next.event_ids.begin(), next.event_ids.end());
  joined.trace_ids.resize(before);
  joined.trace_ids.insert(joined.trace_ids.end(), next.trace_ids.begin(), next.trace_ids.end());
}

}  // namespace

std::vector<std::shared_ptr<const RoomMessages>> merge_room_batches(
    const std::vector<std::shared_ptr<const RoomMessages>>& in) {
  std::vector<std::shared_ptr<const RoomMessages>> out;
  // Per output batch that was joined: its own copy, appended to in place.
  std::vector<std::shared_ptr<RoomMessages>> joined;
  std::unordered_map<std::string, std::size_t> last_of_room;
  for (auto& b : in) {
    if (!b || b->messages.empty()) continue;
    auto prev = last_of_room.find(b->room_id);
    if (prev != last_of_room.end() && can_join(*out[prev->second], *b)) {
      auto& own = joined[prev->second];
      if (!own) {
        own = std::make_shared<RoomMessages>(*out[prev->second]);
        out[prev->second] = own;
      }
      append(*own, *b);
      continue;
    }
    last_of_room[b->room_id] = out.size();
    out.push_back(b);
    joined.emplace_back();
  }
  for (auto& own : joined)
    if (own) own->event = server_messages_event(own->room_id, own->messages);
  return out;
}

}  // namespace roomcast
