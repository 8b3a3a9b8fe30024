// What a push does: one vocabulary for every layer a push crosses, from the queue record Logic
// produces (QueueRecord::type) to the items Job's gateway sends to the comets and the pushes a
// comet hands its I/O loops (ShardPush::kind). A layer uses the kinds it carries.
#pragma once

#include <cstdint>

namespace roomcast {

enum class PushKind : uint8_t {
  kChat,        // chat messages of one room (a queue record: one message; later a RoomMessages)
  kRoom,        // a ready event to a room's members
  kUsers,       // a ready event to some users' connections
  kBroadcast,   // a ready event to every connection
  kMembership,  // a user joined or left a room: that user's other connections follow
  kRoomNotice,  // presence or typing: to the connections that have shown the room
  kUserNotice,  // read state: to one user's connections that have shown the room
};

}  // namespace roomcast
