// The client protocol codec: every event type, malformed input, and robustness on garbage.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "comet/client_events.h"
#include "common/events.h"
#include "common/ids.h"

using namespace roomcast;
namespace json = boost::json;

TEST(ClientEvents, ParsesEveryType) {
  auto m = parse_client_event(
      R"({"type":"clientMessages","payload":{"roomId":"r","messages":[{"content":"hi","clientId":"c1"},{"content":"yo"}]}})");
  ASSERT_TRUE(m.event);
  EXPECT_EQ(m.event->kind, ClientEvent::Kind::kMessages);
  EXPECT_EQ(m.event->room_id, "r");
  ASSERT_EQ(m.event->messages.size(), 2u);
  EXPECT_EQ(m.event->messages[0].client_id, "c1");
  EXPECT_EQ(m.event->messages[1].client_id, "");

  auto h = parse_client_event(
      R"({"type":"requestRoomHistory","payload":{"roomId":"r","firstMessageId":"5-0","count":10}})");
  ASSERT_TRUE(h.event);
  EXPECT_EQ(h.event->kind, ClientEvent::Kind::kHistory);
  EXPECT_EQ(*h.event->first_message_id, "5-0");
  EXPECT_EQ(*h.event->count, 10);
  auto h2 = parse_client_event(R"({"type":"requestRoomHistory","payload":{"roomId":"r"}})");
  ASSERT_TRUE(h2.event);
  EXPECT_FALSE(h2.event->first_message_id);
  EXPECT_FALSE(h2.event->count);

  auto c = parse_client_event(R"({"type":"clientCreateRoom","payload":{"roomName":"Cats"}})");
  ASSERT_TRUE(c.event);
  EXPECT_EQ(c.event->room_name, "Cats");
  auto j = parse_client_event(R"({"type":"clientJoinRoom","payload":{"roomId":"x"}})");
  ASSERT_TRUE(j.event);
  EXPECT_EQ(j.event->kind, ClientEvent::Kind::kJoinRoom);
  auto l = parse_client_event(R"({"type":"clientLeaveRoom","payload":{"roomId":"x"}})");
  ASSERT_TRUE(l.event);
  EXPECT_EQ(l.event->kind, ClientEvent::Kind::kLeaveRoom);
  auto r = parse_client_event(
      R"({"type":"clientResume","payload":{"rooms":[{"roomId":"a","lastMessageId":"0-0"},{"roomId":"b","lastMessageId":"x"}]}})");
  ASSERT_TRUE(r.event);
  ASSERT_EQ(r.event->resume.size(), 2u);
  EXPECT_EQ(r.event->resume[1].last_message_id, "x");  // validated per room later
}

TEST(ClientEvents, RejectsMalformedInput) {
  struct Case {
    const char* frame;
    const char* code;
    const char* request_type;
  };
  const Case cases[] = {
      {"not json", "BAD_REQUEST", ""},
      {"[1,2]", "BAD_REQUEST", ""},
      {R"({"payload":{}})", "BAD_REQUEST", ""},
      {R"({"type":5})", "BAD_REQUEST", ""},
      {R"({"type":"bogus","payload":{}})", "UNKNOWN_TYPE", "bogus"},
      {R"({"type":"clientMessages"})", "BAD_REQUEST", "clientMessages"},
      {R"({"type":"clientMessages","payload":{"roomId":1,"messages":[]}})", "BAD_REQUEST",
       "clientMessages"},
      {R"({"type":"clientMessages","payload":{"roomId":"r","messages":[]}})", "BAD_REQUEST",
       "clientMessages"},
      {R"({"type":"clientMessages","payload":{"roomId":"r","messages":[{"content":3}]}})",
       "BAD_REQUEST", "clientMessages"},
      {R"({"type":"clientMessages","payload":{"roomId":"r","messages":["x"]}})", "BAD_REQUEST",
       "clientMessages"},
      {R"({"type":"clientMessages","payload":{"roomId":"r","messages":[{"content":"a","clientId":7}]}})",
       "BAD_REQUEST", "clientMessages"},
      {R"({"type":"requestRoomHistory","payload":{"roomId":"r","count":"5"}})", "BAD_REQUEST",
       "requestRoomHistory"},
      {R"({"type":"requestRoomHistory","payload":{"roomId":"r","count":1.5}})", "BAD_REQUEST",
       "requestRoomHistory"},
      {R"({"type":"clientCreateRoom","payload":{}})", "BAD_REQUEST", "clientCreateRoom"},
      {R"({"type":"clientResume","payload":{"rooms":{}}})", "BAD_REQUEST", "clientResume"},
      {R"({"type":"clientResume","payload":{"rooms":[{"roomId":"a"}]}})", "BAD_REQUEST",
       "clientResume"},
  };
  for (auto& c : cases) {
    auto p = parse_client_event(c.frame);
    ASSERT_FALSE(p.event) << c.frame;
    ASSERT_TRUE(p.error) << c.frame;
    EXPECT_EQ(p.error->code, c.code) << c.frame;
    EXPECT_EQ(p.error->request_type, c.request_type) << c.frame;
  }
  // Deep nesting is refused, not recursed into.
  std::string deep = R"({"type":"clientJoinRoom","payload":)" + std::string(5000, '[');
  EXPECT_TRUE(parse_client_event(deep).error);
}

TEST(ClientEvents, SurvivesRandomMutations) {
  // A deterministic mini-fuzzer (the libFuzzer target in tests/fuzz goes further): every
  // mutation of valid frames must parse or fail cleanly.
  const std::string seeds[] = {
      R"({"type":"clientMessages","payload":{"roomId":"r","messages":[{"content":"hi","clientId":"c"}]}})",
      R"({"type":"clientResume","payload":{"rooms":[{"roomId":"a","lastMessageId":"1-0"}]}})",
      R"({"type":"requestRoomHistory","payload":{"roomId":"r","firstMessageId":"9-0","count":3}})",
  };
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[i % 3];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (pos < s.size()) s[pos] = static_cast<char>(rng());
          break;
        case 1:
          s.insert(pos, 1, static_cast<char>(rng()));
          break;
        case 2:
          if (pos < s.size()) s.erase(pos, 1 + rng() % 8);
          break;
      }
    }
    auto p = parse_client_event(s);
    EXPECT_TRUE(p.event.has_value() != p.error.has_value());
  }
}

TEST(MessageIds, ParseAndFormat) {
  EXPECT_EQ(message_id(42), "42-0");
  EXPECT_EQ(parse_message_id("42-0"), 42u);
  EXPECT_EQ(parse_message_id("0-0"), 0u);
  EXPECT_EQ(parse_message_id("7-3"), 7u);
  for (const char* bad :
       {"", "-", "1-", "-1", "a-0", "1-a", "1 -0", "+1-0", "1-0-0", "99999999999999999999-0"})
    EXPECT_FALSE(parse_message_id(bad)) << bad;
}

// Ids compare as pairs: "7-3" comes after message "7-0", so a page before it includes 7.
TEST(MessageIds, SeqNotBeforeComparesIdsAsPairs) {
  EXPECT_EQ(seq_not_before("7-0"), 7u);
  EXPECT_EQ(seq_not_before("7-00"), 7u);
  EXPECT_EQ(seq_not_before("7-3"), 8u);
  EXPECT_EQ(seq_not_before("0-1"), 1u);
  EXPECT_EQ(seq_not_before("9999999999999999999-1"), 10000000000000000000u);
  EXPECT_FALSE(seq_not_before("7-x"));
}

TEST(ServerEvents, SerialiseValidJsonWithEscapes) {
  StoredMessage m{"room",        7,      3,  "ann \"the\" <b>", "line1\nline2\t\x01 é 😀",
                  1700000000000, "c\\1", "k"};
  std::vector<StoredMessage> ms{m};
  auto ev = json::parse(server_messages_event("room", ms)).as_object();
  EXPECT_EQ(ev.at("type"), "serverMessages");
  auto& msg = ev.at("payload").at("messages").at(0).as_object();
  EXPECT_EQ(msg.at("id"), "7-0");
  EXPECT_EQ(msg.at("content"), "line1\nline2\t\x01 é 😀");
  EXPECT_EQ(msg.at("user").at("username"), "ann \"the\" <b>");
  EXPECT_EQ(msg.at("user").at("id"), 3);
  EXPECT_EQ(msg.at("timestamp"), 1700000000000);
  EXPECT_EQ(msg.at("clientId"), "c\\1");

  m.client_id.clear();
  RoomPage page{{"room", "Room"}, {m}, true};
  auto hello = json::parse(hello_event({3, "ann"}, {page})).as_object();
  EXPECT_EQ(hello.at("payload").at("me").at("username"), "ann");
  auto& room = hello.at("payload").at("rooms").at(0).as_object();
  EXPECT_EQ(room.at("hasMoreMessages"), true);
  EXPECT_FALSE(room.at("messages").at(0).as_object().contains("clientId"));

  auto hist = json::parse(room_history_event("room", {m}, false, true)).as_object();
  EXPECT_EQ(hist.at("payload").at("resume"), true);
  EXPECT_FALSE(json::parse(room_history_event("room", {}, false, false))
                   .at("payload")
                   .as_object()
                   .contains("resume"));
  EXPECT_EQ(json::parse(create_room_event({"id1", "Name"})).at("payload").at("roomName"), "Name");
  EXPECT_EQ(json::parse(joined_room_event(page)).at("payload").at("room").at("id"), "room");
  EXPECT_EQ(json::parse(left_room_event("x")).at("payload").at("roomId"), "x");
  EXPECT_EQ(json::parse(push_event(5, R"({"a":[1]})")).at("payload").at("body").at("a").at(0), 1);
  auto err = json::parse(error_event("TOO_LONG", "m", "clientMessages")).at("payload").as_object();
  EXPECT_EQ(err.at("code"), "TOO_LONG");
  EXPECT_EQ(err.at("requestType"), "clientMessages");
}
