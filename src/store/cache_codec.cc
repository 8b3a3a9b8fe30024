#include "store/cache_codec.h"

#include <charconv>

#include "domain/message_wire.h"

namespace roomcast {

std::string encode_cached_message(const StoredMessage& m) {
  domain::Message wire;
  message_to_wire(m, wire);
  std::string out;
  wire.SerializeToString(&out);
  return out;
}

bool decode_cached_message(const std::string& room_id, const std::string& bytes, StoredMessage& m) {
  domain::Message wire;
  if (!wire.ParseFromString(bytes)) return false;
  m = message_from_wire(wire, room_id);
  return true;
}

std::string encode_memberships(const std::string& generation,
                               const std::vector<Store::Membership>& rows) {
  std::string out = generation + "\n";
  for (auto& m : rows) {
    out += std::to_string(m.room_id.size()) + ":" + m.room_id;
    out += m.joined ? '1' : '0';
  }
  return out;
}

bool decode_memberships(const std::string& bytes, const std::string& generation,
                        std::vector<Store::Membership>& out) {
  auto nl = bytes.find('\n');
  if (nl == std::string::npos || bytes.compare(0, nl, generation) != 0) return false;
  std::size_t at = nl + 1;
  while (at < bytes.size()) {
    auto colon = bytes.find(':', at);
    if (colon == std::string::npos) return false;
    std::size_t len = 0;
    auto [end, ec] = std::from_chars(bytes.data() + at, bytes.data() + colon, len);
    if (ec != std::errc() || end != bytes.data() + colon || len >= bytes.size() - colon - 1)
      return false;
    out.push_back({bytes.substr(colon + 1, len), bytes[colon + 1 + len] == '1'});
    at = colon + 2 + len;
  }
  return true;
}

}  // namespace roomcast
