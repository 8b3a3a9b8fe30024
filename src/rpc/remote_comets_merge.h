// How RemoteComets merges the chat batches of one push round before it sends them: fewer,
// larger serverMessages events for the comets to write, with the rules of comet/room_batches.h.
#pragma once

#include <memory>
#include <vector>

#include "comet/comet_push.h"

namespace roomcast {

// The batches of a round in push order, merged: each room's batches stay in their order, and a
// batch that can_join() the room's previous one (contiguous seq, no sender's second event) is
// appended to it. Joined batches get their serverMessages event framed again; the others are
// returned as they came (the same objects). Any thread.
std::vector<std::shared_ptr<const RoomMessages>> merge_room_batches(
    const std::vector<std::shared_ptr<const RoomMessages>>& in);

}  // namespace roomcast
