// The WebSocket wire format (RFC 6455) as roomcast's gateway needs it: server frames are built
// once and shared by every recipient; client frames are parsed incrementally from whatever the
// socket delivered. Owning the framing (instead of a generic stream) is what lets a connection
// write many queued frames in one system call and hold no buffer while idle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

// A complete server-to-client frame (header + payload), shareable across connections.
using Frame = std::shared_ptr<const std::string>;

enum WsOpcode : uint8_t {
  kWsContinuation = 0,
  kWsText = 1,
  kWsBinary = 2,
  kWsClose = 8,
  kWsPing = 9,
  kWsPong = 10
};

// Unmasked server frame with FIN set.
std::string encode_ws_frame(uint8_t opcode, std::string_view payload);
Frame make_text_frame(std::string_view json);
Frame make_close_frame(uint16_t code, std::string_view reason);

// Whether a peer may send `code` in a close frame (RFC 6455 §7.4).
bool valid_close_code(uint16_t code);
// Checks a received close frame's payload: sets `code` (1005 for an empty payload) and returns
// nullptr, or returns why the frame is a protocol error (to be answered with 1002).
const char* check_close_payload(std::string_view payload, uint16_t& code);

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string ws_accept_key(std::string_view client_key);

// Incremental parser of client frames. Enforces the RFC's rules for a server (frames must be
// masked, no reserved bits, well-formed fragmentation and control frames), the message size
// limit (1009), UTF-8 of text messages (1007) and refuses binary messages (1003).
class WsFrameParser {
 public:
  struct Event {
    uint8_t opcode;  // kWsText (a complete message), kWsPing, kWsPong or kWsClose
    std::string payload;
    uint16_t close_code = 0;  // for kWsClose: the peer's code (1005 when none)
  };

  explicit WsFrameParser(std::size_t max_message) : max_message_(max_message) {}

  // Parses the complete frames at the front of `data`, appending their events to `out`, and
  // returns the bytes consumed (a partial frame at the end is left for the next call). After a
  // violation, failure() is the close code to send and nothing more is parsed.
  std::size_t parse(std::string_view data, std::vector<Event>& out);
  uint16_t failure() const { return failure_; }
  const char* failure_reason() const { return failure_reason_; }
  // The failure was a malformed close frame: the peer has closed its side.
  bool peer_closed() const { return peer_closed_; }

 private:
  void fail(uint16_t code, const char* reason) {
    failure_ = code;
    failure_reason_ = reason;
  }

  std::size_t max_message_;
  std::string message_;  // a fragmented text message being assembled
  bool in_message_ = false;
  uint16_t failure_ = 0;
  bool peer_closed_ = false;
  const char* failure_reason_ = "";
};

}  // namespace roomcast
