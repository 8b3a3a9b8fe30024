// How a room's new messages are cut into `serverMessages` events. Batching several senders'
// messages into one event keeps fan-out cheap, but two `clientMessages` events of one sender
// never share a live `serverMessages`: a client that sent two events may wait for two answers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "comet/comet_push.h"

namespace roomcast {

// Cuts `messages` (one room, ascending seq; `event_ids[i]` names the clientMessages event of
// `messages[i]`, 0 when unknown, and `trace_ids[i]` its trace) into runs that each hold at most
// one event per sender, and serialises each run's event. Any thread.
std::vector<std::shared_ptr<RoomMessages>> cut_room_messages(
    const std::string& room_id, std::vector<StoredMessage> messages,
    const std::vector<uint64_t>& event_ids, const std::vector<TraceId>& trace_ids = {});

// True when `next` directly follows `prev` (same room, contiguous seq) and joining them puts no
// two events of one sender into one event. Any thread.
bool can_join(const RoomMessages& prev, const RoomMessages& next);

}  // namespace roomcast
