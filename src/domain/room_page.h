// A room with one page of its messages and the reader's state in it: what `hello` and
// `serverJoinedRoom` carry per room (docs/protocol.md revision 3), and what LogicApi::room_page
// answers.
#pragma once

#include <cstdint>
#include <vector>

#include "domain/message.h"
#include "domain/room.h"

namespace roomcast {

struct RoomPage {
  RoomInfo room;
  std::vector<StoredMessage> messages;  // newest first
  bool has_more = false;
  int64_t online = 0;
  uint64_t last_read_seq = 0;  // "0-0" when never read
  int64_t unread = 0;
};

}  // namespace roomcast
