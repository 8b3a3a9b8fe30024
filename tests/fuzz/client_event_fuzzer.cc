// libFuzzer target for the parsers that see untrusted bytes: client events, message ids,
// cookies and the account validators. Build with `make fuzz` (clang + libFuzzer).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "comet/client_events.h"
#include "comet/ws_codec.h"
#include "common/cookie.h"
#include "common/ids.h"
#include "common/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = roomcast::parse_client_event(input);
  if (parsed.event.has_value() == parsed.error.has_value()) __builtin_trap();
  roomcast::parse_message_id(input);
  roomcast::utf8_length(input);
  roomcast::valid_username(input);
  roomcast::valid_email(input);
  roomcast::cookie_value(input, "sid");
  roomcast::WsFrameParser parser(1024);
  std::vector<roomcast::WsFrameParser::Event> events;
  if (parser.parse(input, events) > size) __builtin_trap();
  return 0;
}
