// A room: its id (the room id rule of docs/protocol.md) and display name.
#pragma once

#include <string>

namespace roomcast {

struct RoomInfo {
  std::string id;
  std::string name;
};

}  // namespace roomcast
