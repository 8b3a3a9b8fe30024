// The WebSocket framing of the gateway: encoding, incremental parsing and every refusal.
#include <gtest/gtest.h>

#include <random>

#include "comet/ws_codec.h"

using namespace roomcast;

namespace {
// A masked client frame, as a browser sends it.
std::string client_frame(uint8_t first_byte, std::string_view payload, uint32_t mask = 0x12345678) {
  std::string f;
  f += static_cast<char>(first_byte);
  std::size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n <= 0xFFFF) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int s = 56; s >= 0; s -= 8) f += static_cast<char>((n >> s) & 0xFF);
  }
  char m[4] = {char(mask >> 24), char(mask >> 16), char(mask >> 8), char(mask)};
  f.append(m, 4);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ m[i & 3]);
  return f;
}
}  // namespace

TEST(WsCodec, EncodesServerFramesWithEveryLengthForm) {
  EXPECT_EQ(encode_ws_frame(kWsText, "hi"), std::string("\x81\x02hi", 4));
  auto mid = encode_ws_frame(kWsText, std::string(300, 'a'));
  EXPECT_EQ(static_cast<uint8_t>(mid[1]), 126);
  EXPECT_EQ(mid.size(), 4u + 300);
  auto big = encode_ws_frame(kWsText, std::string(70000, 'a'));
  EXPECT_EQ(static_cast<uint8_t>(big[1]), 127);
  EXPECT_EQ(big.size(), 10u + 70000);
  auto close = make_close_frame(1008, "bye");
  EXPECT_EQ(*close, std::string("\x88\x05\x03\xf0"
                                "bye",
                                7));
}

TEST(WsCodec, AcceptKeyMatchesTheRfcExample) {
  EXPECT_EQ(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsCodec, ParsesMessagesSplitAnywhere) {
  std::string stream = client_frame(0x81, "{\"a\":1}") + client_frame(0x89, "p") +
                       client_frame(0x01, "frag") + client_frame(0x80, "ment") +
                       client_frame(0x81, std::string(1000, 'x'));
  for (std::size_t chunk = 1; chunk <= stream.size(); chunk += 7) {
    WsFrameParser parser(64 * 1024);
    std::vector<WsFrameParser::Event> events;
    std::string pending;
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
      pending += stream.substr(pos, chunk);
      pending.erase(0, parser.parse(pending, events));
    }
    ASSERT_EQ(parser.failure(), 0);
    ASSERT_EQ(events.size(), 4u) << chunk;
    EXPECT_EQ(events[0].payload, "{\"a\":1}");
    EXPECT_EQ(events[1].opcode, kWsPing);
    EXPECT_EQ(events[2].payload, "fragment");
    EXPECT_EQ(events[3].payload.size(), 1000u);
    EXPECT_TRUE(pending.empty());
  }
}

TEST(WsCodec, RefusesWhatTheProtocolForbids) {
  struct Case {
    std::string bytes;
    uint16_t code;
  };
  std::string unmasked = "\x81\x02hi";
  const Case cases[] = {
      {unmasked, 1002},
      {client_frame(0xC1, "x"), 1002},                            // RSV1 without an extension
      {client_frame(0x82, "bin"), 1003},                          // binary
      {client_frame(0x80, "x"), 1002},                            // continuation first
      {client_frame(0x01, "a") + client_frame(0x81, "b"), 1002},  // text inside fragments
      {client_frame(0x09, "x"), 1002},                            // fragmented control frame
      {client_frame(0x83, "x"), 1002},                            // reserved opcode
      {client_frame(0x81, std::string(70000, 'y')), 1009},        // over the limit
      {client_frame(0x81, "\xff\xfe"), 1007},                     // invalid UTF-8
      {client_frame(0x88, "x"), 1002},                            // 1-byte close payload
  };
  for (auto& c : cases) {
    WsFrameParser parser(64 * 1024);
    std::vector<WsFrameParser::Event> events;
    parser.parse(c.bytes, events);
    EXPECT_EQ(parser.failure(), c.code) << testing::PrintToString(c.bytes.substr(0, 8));
  }
  // The size limit applies to the assembled message, and is known from the header alone.
  WsFrameParser parser(10);
  std::vector<WsFrameParser::Event> events;
  parser.parse(client_frame(0x01, "123456") + client_frame(0x80, "789012"), events);
  EXPECT_EQ(parser.failure(), 1009);
  WsFrameParser early(1000);
  std::string header_only = client_frame(0x81, std::string(5000, 'z')).substr(0, 8);
  early.parse(header_only, events);
  EXPECT_EQ(early.failure(), 1009);
}

TEST(WsCodec, CloseFramesCarryTheirCode) {
  WsFrameParser parser(1024);
  std::vector<WsFrameParser::Event> events;
  parser.parse(client_frame(0x88, std::string("\x03\xe8", 2)) + client_frame(0x88, ""), events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].close_code, 1000);
  EXPECT_EQ(events[1].close_code, 1005);
}

TEST(WsCodec, ClosesWithInvalidCodesOrReasonsAreProtocolErrors) {
  auto close_with = [](uint16_t code, std::string_view reason = "") {
    std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    payload.append(reason);
    return client_frame(0x88, payload);
  };
  for (uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    WsFrameParser parser(1024);
    std::vector<WsFrameParser::Event> events;
    parser.parse(close_with(bad), events);
    EXPECT_EQ(parser.failure(), 1002) << bad;
    EXPECT_TRUE(parser.peer_closed()) << bad;
    EXPECT_TRUE(events.empty()) << bad;
  }
  for (uint16_t good : {1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1013, 1014, 3000, 4999}) {
    WsFrameParser parser(1024);
    std::vector<WsFrameParser::Event> events;
    parser.parse(close_with(good, "bye \xc3\xa9"), events);
    EXPECT_EQ(parser.failure(), 0) << good;
    ASSERT_EQ(events.size(), 1u) << good;
    EXPECT_EQ(events[0].close_code, good);
  }
  WsFrameParser not_utf8(1024);
  std::vector<WsFrameParser::Event> events;
  not_utf8.parse(close_with(1000, "\xff\xfe"), events);
  EXPECT_EQ(not_utf8.failure(), 1002);
  WsFrameParser truncated_utf8(1024);
  truncated_utf8.parse(close_with(1000, "\xc3"), events);
  EXPECT_EQ(truncated_utf8.failure(), 1002);
  WsFrameParser one_byte(1024);
  one_byte.parse(client_frame(0x88, "x"), events);
  EXPECT_TRUE(one_byte.peer_closed());
  // A protocol error in a data frame is not the peer closing.
  WsFrameParser unmasked(1024);
  unmasked.parse("\x81\x02hi", events);
  EXPECT_EQ(unmasked.failure(), 1002);
  EXPECT_FALSE(unmasked.peer_closed());
}

TEST(WsCodec, SurvivesRandomBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng());
    if (i % 2) bytes = client_frame(0x81, "ok") + bytes;
    WsFrameParser parser(256);
    std::vector<WsFrameParser::Event> events;
    auto used = parser.parse(bytes, events);
    EXPECT_LE(used, bytes.size());
  }
}
