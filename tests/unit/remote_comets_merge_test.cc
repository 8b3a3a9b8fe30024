// How Job's gRPC gateway merges the chat batches of one push round
// (rpc/remote_comets_merge.h): a room's batches keep their order, contiguous ones join unless
// a sender would have two events in one serverMessages, and a joined batch's event carries all of
// its messages.
#include <gtest/gtest.h>

#include "comet/room_batches.h"
#include "rpc/remote_comets_merge.h"

using namespace roomcast;

namespace {

StoredMessage message(const std::string& room, uint64_t seq, int64_t sender) {
  StoredMessage m;
  m.room_id = room;
  m.seq = seq;
  m.user_id = sender;
  m.content = room + "-m" + std::to_string(seq);
  return m;
}

// One batch of `room` with messages seq first.. from `senders`, all of event `event`.
std::shared_ptr<const RoomMessages> batch(const std::string& room, uint64_t first,
                                          std::vector<int64_t> senders, uint64_t event) {
  std::vector<StoredMessage> messages;
  for (std::size_t i = 0; i < senders.size(); ++i)
    messages.push_back(message(room, first + i, senders[i]));
  std::vector<uint64_t> events(senders.size(), event);
  std::vector<TraceId> traces(senders.size(), TraceId{event * 10});
  auto runs = cut_room_messages(room, std::move(messages), events, traces);
  EXPECT_EQ(runs.size(), 1u);
  return runs.front();
}

std::vector<uint64_t> seqs(const RoomMessages& b) {
  std::vector<uint64_t> out;
  for (auto& m : b.messages) out.push_back(m.seq);
  return out;
}

bool mentions(const RoomMessages& b, const std::string& text) {
  return b.event.find(text) != std::string::npos;
}

}  // namespace

TEST(CometGatewayMerge, ContiguousBatchesOfARoomBecomeOneWithOneEvent) {
  auto a = batch("r", 1, {1, 2}, 7), b = batch("r", 3, {3}, 8), c = batch("r", 4, {4}, 9);
  auto out = merge_room_batches({a, b, c});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(seqs(*out[0]), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(out[0]->event_ids, (std::vector<uint64_t>{7, 7, 8, 9}));
  ASSERT_EQ(out[0]->trace_ids.size(), 4u);
  EXPECT_EQ(out[0]->trace_ids[3].value, 90u);
  for (auto* text : {"r-m1", "r-m2", "r-m3", "r-m4"}) EXPECT_TRUE(mentions(*out[0], text)) << text;
  // The inputs are shared with Job's other gateways: never changed.
  EXPECT_EQ(a->messages.size(), 2u);
  EXPECT_FALSE(mentions(*a, "r-m3"));
}

TEST(CometGatewayMerge, ASendersSecondEventStartsANewBatch) {
  auto out = merge_room_batches({batch("r", 1, {1}, 7), batch("r", 2, {1}, 8)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(seqs(*out[0]), std::vector<uint64_t>{1});
  EXPECT_EQ(seqs(*out[1]), std::vector<uint64_t>{2});
  EXPECT_FALSE(mentions(*out[0], "r-m2"));
}

TEST(CometGatewayMerge, AHoleInTheSequenceIsNeverJoinedOver) {
  auto out = merge_room_batches({batch("r", 1, {1}, 7), batch("r", 3, {2}, 8)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1]->first_seq(), 3u);
}

TEST(CometGatewayMerge, RoomsInterleavedKeepEachRoomsOrder) {
  auto out =
      merge_room_batches({batch("a", 1, {1}, 1), batch("b", 5, {2}, 2), batch("a", 2, {3}, 3),
                          batch("b", 6, {2}, 4), batch("a", 3, {4}, 5)});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]->room_id, "a");
  EXPECT_EQ(seqs(*out[0]), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(out[1]->room_id, "b");
  EXPECT_EQ(seqs(*out[1]), std::vector<uint64_t>{5});  // sender 2's second event: cut
  EXPECT_EQ(out[2]->room_id, "b");
  EXPECT_EQ(seqs(*out[2]), std::vector<uint64_t>{6});
}

TEST(CometGatewayMerge, BatchesNotJoinedAreReturnedAsTheyCame) {
  auto a = batch("a", 1, {1}, 1), b = batch("b", 1, {2}, 2);
  auto out = merge_room_batches({a, nullptr, b, std::make_shared<const RoomMessages>()});
  ASSERT_EQ(out.size(), 2u);  // empty batches are dropped
  EXPECT_EQ(out[0], a);
  EXPECT_EQ(out[1], b);
}

TEST(CometGatewayMerge, MissingEventAndTraceIdsArePaddedWhenJoined) {
  auto bare = std::make_shared<RoomMessages>();
  bare->room_id = "r";
  bare->messages = {message("r", 3, 9)};  // no event or trace ids: an unknown event
  auto out = merge_room_batches({batch("r", 1, {1, 2}, 7), bare});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->event_ids, (std::vector<uint64_t>{7, 7}));
  EXPECT_EQ(out[0]->trace_ids.size(), 2u);
  EXPECT_EQ(seqs(*out[0]), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(mentions(*out[0], "r-m3"));
}
