#include "comet/room_batches.h"

#include <unordered_map>

#include "common/events.h"

namespace roomcast {

namespace {

// The event a sender has in a run. An unknown event (0) never shares a run with another
// message of its sender.
class SenderEvents {
 public:
  bool conflicts(int64_t sender, uint64_t event) const {
    auto it = events_.find(sender);
    return it != events_.end() && (it->second != event || event == 0);
  }
  void add(int64_t sender, uint64_t event) { events_[sender] = event; }
  void clear() { events_.clear(); }

 private:
  std::unordered_map<int64_t, uint64_t> events_;
};

uint64_t event_at(const std::vector<uint64_t>& ids, std::size_t i) {
  return i < ids.size() ? ids[i] : 0;
}

std::shared_ptr<RoomMessages> new_run(const std::string& room_id) {
  auto run = std::make_shared<RoomMessages>();
  run->room_id = room_id;
  return run;
}

}  // namespace

std::vector<std::shared_ptr<RoomMessages>> cut_room_messages(
    const std::string& room_id, std::vector<StoredMessage> messages,
    const std::vector<uint64_t>& event_ids, const std::vector<TraceId>& trace_ids) {
  std::vector<std::shared_ptr<RoomMessages>> runs;
  SenderEvents senders;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    uint64_t event = event_at(event_ids, i);
    auto& m = messages[i];
    if (runs.empty() || senders.conflicts(m.user_id, event)) {
      runs.push_back(new_run(room_id));
      senders.clear();
    }
    senders.add(m.user_id, event);
    runs.back()->event_ids.push_back(event);
    runs.back()->trace_ids.push_back(i < trace_ids.size() ? trace_ids[i] : TraceId{});
    runs.back()->messages.push_back(std::move(m));
  }
  for (auto& run : runs) run->event = server_messages_event(room_id, run->messages);
  return runs;
}

bool can_join(const RoomMessages& prev, const RoomMessages& next) {
  if (prev.room_id != next.room_id || prev.messages.empty() || next.messages.empty() ||
      prev.last_seq() + 1 != next.first_seq())
    return false;
  SenderEvents senders;
  for (std::size_t i = 0; i < prev.messages.size(); ++i)
    senders.add(prev.messages[i].user_id, event_at(prev.event_ids, i));
  for (std::size_t i = 0; i < next.messages.size(); ++i) {
    uint64_t event = event_at(next.event_ids, i);
    if (senders.conflicts(next.messages[i].user_id, event)) return false;
  }
  return true;
}

}  // namespace roomcast
