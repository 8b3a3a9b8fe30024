// A chat message as a client posts it, and as it is stored once Logic accepted it and Job
// numbered it. Their wire form is src/domain/message_wire.h.
#pragma once

#include <cstdint>
#include <string>

namespace roomcast {

// One message of a clientMessages event, before Logic validates it.
struct ClientMessage {
  std::string content;
  std::string client_id;  // empty when not given
};

// A message as persisted: its place in the room's order and everything needed to render it.
struct StoredMessage {
  std::string room_id;
  uint64_t seq = 0;
  int64_t user_id = 0;
  std::string username;
  std::string content;
  int64_t timestamp_ms = 0;
  std::string client_id;  // as given by the sender; empty when none
  std::string dedup_key;  // unique per accepted message: the idempotency key
};

}  // namespace roomcast
