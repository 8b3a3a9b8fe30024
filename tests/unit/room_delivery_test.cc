// The per-room delivery rule of a connection (comet/room_delivery.h): the live stream is
// gap-free and never repeats an id; a gap is filled before anything later, or given up on.
#include <gtest/gtest.h>

#include "comet/room_delivery.h"

using namespace roomcast;
using Kind = RoomDelivery::Step::Kind;

namespace {
StoredMessage message(uint64_t seq) {
  StoredMessage m;
  m.room_id = "r";
  m.seq = seq;
  m.content = "m" + std::to_string(seq);
  return m;
}

RoomDelivery::Batch batch(uint64_t first, uint64_t last) {
  auto b = std::make_shared<RoomMessages>();
  b->room_id = "r";
  for (auto s = first; s <= last; ++s) b->messages.push_back(message(s));
  return b;
}

std::vector<StoredMessage> messages(uint64_t first, uint64_t last) {
  std::vector<StoredMessage> out;
  for (auto s = first; s <= last; ++s) out.push_back(message(s));
  return out;
}

RoomPage page_up_to(uint64_t newest, uint64_t oldest) {
  RoomPage p;
  for (auto s = newest; s >= oldest && s > 0; --s) p.messages.push_back(message(s));
  return p;
}

RoomDelivery ready_at(uint64_t last) {
  RoomDelivery d;
  d.page_sent(page_up_to(last, last > 3 ? last - 3 : 1));
  return d;
}
}  // namespace

TEST(RoomDelivery, HoldsLiveBatchesUntilThePageIsOutThenDropsTheOverlap) {
  RoomDelivery d;
  EXPECT_EQ(d.offer(batch(5, 6), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.offer(batch(7, 7), nullptr).kind, Kind::kNothing);
  auto held = d.page_sent(page_up_to(5, 3));
  EXPECT_EQ(d.page_oldest(), 3u);
  ASSERT_EQ(held.size(), 2u);
  auto overlap = d.offer(held[0].batch, held[0].frame);
  ASSERT_EQ(overlap.kind, Kind::kSendTail);  // 5 was in the page: only 6
  ASSERT_EQ(overlap.tail.size(), 1u);
  EXPECT_EQ(overlap.tail[0].seq, 6u);
  EXPECT_EQ(d.offer(held[1].batch, held[1].frame).kind, Kind::kSendFrame);
  EXPECT_EQ(d.last_seq(), 7u);
}

TEST(RoomDelivery, DropsWhatWasSeen) {
  auto d = ready_at(5);
  EXPECT_EQ(d.offer(batch(4, 5), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.offer(batch(6, 6), nullptr).kind, Kind::kSendFrame);
  EXPECT_EQ(d.offer(batch(6, 6), nullptr).kind, Kind::kNothing);
}

TEST(RoomDelivery, AGapIsFilledBeforeAnythingLater) {
  auto d = ready_at(5);
  auto fill = d.offer(batch(9, 10), nullptr);
  ASSERT_EQ(fill.kind, Kind::kFill);
  EXPECT_EQ(fill.fill_after, 5u);
  EXPECT_EQ(fill.fill_before, 9u);
  // Later batches wait for the fill, even contiguous-looking ones.
  EXPECT_EQ(d.offer(batch(11, 11), nullptr).kind, Kind::kNothing);
  auto filled = messages(6, 8);
  ASSERT_EQ(d.fill_done(fill.fill_id, filled), RoomDelivery::FillResult::kDone);
  EXPECT_EQ(filled.size(), 3u);
  auto held = d.take_held();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(d.offer(held[0].batch, nullptr).kind, Kind::kSendFrame);
  EXPECT_EQ(d.offer(held[1].batch, nullptr).kind, Kind::kSendFrame);
  EXPECT_EQ(d.last_seq(), 11u);
}

TEST(RoomDelivery, AFillThatMissesPartOfTheGapIsIncomplete) {
  auto d = ready_at(5);
  auto fill = d.offer(batch(9, 9), nullptr);
  auto short_fill = messages(6, 7);  // 8 is missing
  EXPECT_EQ(d.fill_done(fill.fill_id, short_fill), RoomDelivery::FillResult::kIncomplete);
  auto d2 = ready_at(5);
  auto fill2 = d2.offer(batch(9, 9), nullptr);
  auto holey = messages(7, 8);  // 6 is missing
  EXPECT_EQ(d2.fill_done(fill2.fill_id, holey), RoomDelivery::FillResult::kIncomplete);
}

TEST(RoomDelivery, AStaleFillIsIgnored) {
  auto d = ready_at(5);
  auto fill = d.offer(batch(9, 9), nullptr);
  auto filled = messages(6, 8);
  EXPECT_EQ(d.fill_done(fill.fill_id + 1000, filled), RoomDelivery::FillResult::kStale);
  EXPECT_EQ(d.fill_done(fill.fill_id, filled), RoomDelivery::FillResult::kDone);
}

TEST(RoomDelivery, TheTailIsReadUpToTheNewestMessage) {
  auto d = ready_at(5);
  auto tail = d.check_tail();
  ASSERT_EQ(tail.kind, Kind::kFill);
  EXPECT_EQ(tail.fill_after, 5u);
  EXPECT_EQ(tail.fill_before, kOpenEnd);
  auto missed = messages(6, 7);
  ASSERT_EQ(d.fill_done(tail.fill_id, missed), RoomDelivery::FillResult::kDone);
  EXPECT_EQ(d.last_seq(), 7u);
  // Nothing missed is fine too.
  auto again = d.check_tail();
  std::vector<StoredMessage> none;
  EXPECT_EQ(d.fill_done(again.fill_id, none), RoomDelivery::FillResult::kDone);
  EXPECT_EQ(d.offer(batch(8, 8), nullptr).kind, Kind::kSendFrame);
}

TEST(RoomDelivery, ATailCheckDuringAFillWaitsForIt) {
  auto d = ready_at(5);
  auto fill = d.offer(batch(9, 9), nullptr);
  EXPECT_EQ(d.check_tail().kind, Kind::kNothing);
  auto filled = messages(6, 8);
  ASSERT_EQ(d.fill_done(fill.fill_id, filled), RoomDelivery::FillResult::kDone);
  for (auto& h : d.take_held()) d.offer(h.batch, h.frame);
  auto tail = d.pending_tail_check();
  ASSERT_EQ(tail.kind, Kind::kFill);
  EXPECT_EQ(tail.fill_after, 9u);
  EXPECT_EQ(d.pending_tail_check().kind, Kind::kNothing);
}

TEST(RoomDelivery, GivesUpWhenTooMuchIsHeld) {
  RoomDelivery d(2);
  EXPECT_EQ(d.offer(batch(1, 1), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.offer(batch(2, 2), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.offer(batch(3, 3), nullptr).kind, Kind::kGiveUp);
}
