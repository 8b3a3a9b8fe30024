// libFuzzer target: the WebSocket frame parser fed the same bytes in arbitrary chunks must
// produce the same events and the same failure as when fed everything at once — a socket may
// cut a frame anywhere. The first two bytes seed the chunk sizes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "comet/ws_codec.h"

namespace {
using roomcast::WsFrameParser;

struct Outcome {
  std::vector<WsFrameParser::Event> events;
  uint16_t failure = 0;
};

// Feeds `data` as the session does: unparsed bytes stay buffered and are parsed again with
// the next chunk.
Outcome parse_in_chunks(std::string_view data, uint32_t seed) {
  WsFrameParser parser(4096);
  Outcome out;
  std::string pending;
  std::size_t at = 0;
  while (at < data.size() && !parser.failure()) {
    seed = seed * 1103515245u + 12345u;
    std::size_t n = 1 + (seed >> 16) % 37;
    pending.append(data.substr(at, n));
    at += n;
    pending.erase(0, parser.parse(pending, out.events));
  }
  out.failure = parser.failure();
  return out;
}

bool same(const WsFrameParser::Event& a, const WsFrameParser::Event& b) {
  return a.opcode == b.opcode && a.payload == b.payload && a.close_code == b.close_code;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint32_t seed = data[0] | (data[1] << 8);
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  Outcome whole;
  WsFrameParser parser(4096);
  std::size_t used = parser.parse(input, whole.events);
  if (used > input.size()) __builtin_trap();
  whole.failure = parser.failure();
  Outcome chunked = parse_in_chunks(input, seed);
  if (whole.failure != chunked.failure) __builtin_trap();
  if (whole.events.size() != chunked.events.size()) __builtin_trap();
  for (std::size_t i = 0; i < whole.events.size(); ++i)
    if (!same(whole.events[i], chunked.events[i])) __builtin_trap();
  return 0;
}
