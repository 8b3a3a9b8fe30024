// How a room's messages become serverMessages events: senders share an event, two events of
// one sender never do (docs/protocol.md, serverMessages), and idempotency keys are per room.
#include <gtest/gtest.h>

#include "comet/room_batches.h"
#include "logic/logic.h"

using namespace roomcast;

namespace {
StoredMessage message(uint64_t seq, int64_t sender) {
  StoredMessage m;
  m.room_id = "r";
  m.seq = seq;
  m.user_id = sender;
  m.content = "m" + std::to_string(seq);
  return m;
}
}  // namespace

TEST(RoomBatches, CutsAtTheSecondEventOfASender) {
  auto runs = cut_room_messages("r", {message(1, 1), message(2, 1), message(3, 2), message(4, 1)},
                                {7, 7, 8, 9});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]->messages.size(), 3u);
  EXPECT_EQ(runs[1]->first_seq(), 4u);
  EXPECT_EQ(runs[1]->event_ids, std::vector<uint64_t>{9});
  EXPECT_NE(runs[1]->event.find("\"m4\""), std::string::npos);
  EXPECT_EQ(runs[1]->event.find("\"m3\""), std::string::npos);
}

TEST(RoomBatches, UnknownEventsNeverShareARunWithTheirSender) {
  auto runs = cut_room_messages("r", {message(1, 1), message(2, 1), message(3, 2)}, {0, 0, 0});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1]->messages.size(), 2u);  // sender 1's second message and sender 2's
}

TEST(RoomBatches, JoinsOnlyContiguousRunsWithoutASendersSecondEvent) {
  auto a = cut_room_messages("r", {message(1, 1)}, {7}).front();
  auto other_sender = cut_room_messages("r", {message(2, 2)}, {8}).front();
  auto same_event = cut_room_messages("r", {message(2, 1)}, {7}).front();
  auto next_event = cut_room_messages("r", {message(2, 1)}, {9}).front();
  auto not_next = cut_room_messages("r", {message(3, 2)}, {8}).front();
  EXPECT_TRUE(can_join(*a, *other_sender));
  EXPECT_TRUE(can_join(*a, *same_event));
  EXPECT_FALSE(can_join(*a, *next_event));
  EXPECT_FALSE(can_join(*a, *not_next));
}

TEST(IdempotencyKey, IsPerSenderAndRoom) {
  EXPECT_EQ(idempotency_key(5, "lobby", "K"), idempotency_key(5, "lobby", "K"));
  EXPECT_NE(idempotency_key(5, "lobby", "K"), idempotency_key(5, "random", "K"));
  EXPECT_NE(idempotency_key(5, "lobby", "K"), idempotency_key(6, "lobby", "K"));
  // Room ids cannot smuggle a client id across the separator.
  EXPECT_NE(idempotency_key(5, "a:c:b", "x"), idempotency_key(5, "a", "b:c:x"));
  // Without a client id every message is new.
  EXPECT_NE(idempotency_key(5, "lobby", ""), idempotency_key(5, "lobby", ""));
}
