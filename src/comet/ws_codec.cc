#include "comet/ws_codec.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/validation.h"
#include "domain/close_codes.h"

namespace roomcast {

std::string encode_ws_frame(uint8_t opcode, std::string_view payload) {
  std::string out;
  std::size_t n = payload.size();
  out.reserve(n + 10);
  out += static_cast<char>(0x80 | opcode);
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  }
  out.append(payload);
  return out;
}

Frame make_text_frame(std::string_view json) {
  return std::make_shared<const std::string>(encode_ws_frame(kWsText, json));
}

Frame make_close_frame(uint16_t code, std::string_view reason) {
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload.append(reason.substr(0, 123));
  return std::make_shared<const std::string>(encode_ws_frame(kWsClose, payload));
}

std::string ws_accept_key(std::string_view client_key) {
  std::string input(client_key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // the RFC 6455 GUID
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int len = EVP_EncodeBlock(b64, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(b64), static_cast<std::size_t>(len));
}

bool valid_close_code(uint16_t code) {
  // RFC 6455 §7.4: 1004-1006 and 1015 are reserved or never sent; 1016-2999 are reserved for
  // future RFCs; 3000-4999 belong to libraries and applications.
  if (code < 1000 || code >= 5000) return false;
  if (code == 1004 || code == 1005 || code == 1006 || code == 1015) return false;
  return code < 1016 || code >= 3000;
}

const char* check_close_payload(std::string_view payload, uint16_t& code) {
  if (payload.empty()) {
    code = close_code::kNoStatus;  // answered with kNormal
    return nullptr;
  }
  if (payload.size() == 1) return "close payload of one byte";
  code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                               static_cast<uint8_t>(payload[1]));
  if (!valid_close_code(code)) return "invalid close code";
  if (!utf8_length(payload.substr(2))) return "close reason is not UTF-8";
  return nullptr;
}

std::size_t WsFrameParser::parse(std::string_view data, std::vector<Event>& out) {
  std::size_t pos = 0;
  while (!failure_) {
    std::size_t avail = data.size() - pos;
    if (avail < 2) break;
    auto b0 = static_cast<uint8_t>(data[pos]);
    auto b1 = static_cast<uint8_t>(data[pos + 1]);
    bool fin = b0 & 0x80;
    uint8_t opcode = b0 & 0x0F;
    uint64_t len = b1 & 0x7F;
    std::size_t header = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (uint64_t{static_cast<uint8_t>(data[pos + 2])} << 8) |
            static_cast<uint8_t>(data[pos + 3]);
      header = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(data[pos + 2 + i]);
      header = 10;
    }
    if (b0 & 0x70) return fail(close_code::kProtocolError, "reserved bits set"), data.size();
    if (!(b1 & 0x80))
      return fail(close_code::kProtocolError, "client frames must be masked"), data.size();
    bool control = opcode & 0x8;
    if (control) {
      if (opcode != kWsClose && opcode != kWsPing && opcode != kWsPong)
        return fail(close_code::kProtocolError, "unknown opcode"), data.size();
      if (!fin || len > 125)
        return fail(close_code::kProtocolError, "bad control frame"), data.size();
    } else {
      if (opcode != kWsContinuation && opcode != kWsText && opcode != kWsBinary)
        return fail(close_code::kProtocolError, "unknown opcode"), data.size();
      if (opcode == kWsBinary)
        return fail(close_code::kUnsupportedData, "binary frames are not supported"), data.size();
      if (opcode == kWsContinuation && !in_message_)
        return fail(close_code::kProtocolError, "continuation without a message"), data.size();
      if (opcode == kWsText && in_message_)
        return fail(close_code::kProtocolError, "new message inside a fragmented one"), data.size();
      // Checked on the header: an oversize message is refused before its bytes arrive.
      if (len > max_message_ || message_.size() + len > max_message_)
        return fail(close_code::kMessageTooBig, "message too big"), data.size();
    }
    if (avail < header + 4 + len) break;  // wait for the rest of the frame
    const char* mask = data.data() + pos + header;
    const char* src = mask + 4;
    std::string payload(static_cast<std::size_t>(len), '\0');
    for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(src[i] ^ mask[i & 3]);
    pos += header + 4 + static_cast<std::size_t>(len);

    if (control) {
      Event ev{opcode, std::move(payload)};
      if (opcode == kWsClose) {
        if (const char* why = check_close_payload(ev.payload, ev.close_code)) {
          peer_closed_ = true;
          return fail(close_code::kProtocolError, why), data.size();
        }
      }
      out.push_back(std::move(ev));
      continue;
    }
    if (opcode == kWsText)
      message_ = std::move(payload);
    else
      message_ += payload;
    in_message_ = !fin;
    if (fin) {
      if (!utf8_length(message_))
        return fail(close_code::kInvalidPayload, "invalid UTF-8"), data.size();
      out.push_back({kWsText, std::move(message_)});
      message_.clear();
      message_.shrink_to_fit();
    }
  }
  return pos;
}

}  // namespace roomcast
