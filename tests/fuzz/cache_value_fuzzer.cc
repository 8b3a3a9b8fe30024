// libFuzzer target: values read back from Redis (recent history, memberships) may be stale,
// truncated or written by another version. Decoding never crashes or reads out of bounds, and
// whatever decodes survives an encode/decode round trip.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/cache_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  roomcast::StoredMessage m;
  if (roomcast::decode_cached_message("r", input, m)) {
    roomcast::StoredMessage again;
    if (!roomcast::decode_cached_message("r", roomcast::encode_cached_message(m), again))
      __builtin_trap();
    if (again.seq != m.seq || again.content != m.content || again.username != m.username)
      __builtin_trap();
  }
  auto nl = input.find('\n');
  std::string generation = input.substr(0, nl == std::string::npos ? 0 : nl);
  std::vector<roomcast::Store::Membership> rows;
  if (roomcast::decode_memberships(input, generation, rows)) {
    std::vector<roomcast::Store::Membership> again;
    if (!roomcast::decode_memberships(roomcast::encode_memberships(generation, rows), generation,
                                      again))
      __builtin_trap();
    if (again.size() != rows.size()) __builtin_trap();
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (again[i].room_id != rows[i].room_id || again[i].joined != rows[i].joined)
        __builtin_trap();
  }
  return 0;
}
