// The room id rule of docs/protocol.md (Limits): 1-64 characters of [A-Za-z0-9_.-].
#pragma once

#include <string_view>

namespace roomcast {

inline bool valid_room_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace roomcast
