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

std::vector<Kind> kinds(const std::vector<RoomDelivery::Replay>& replay) {
  std::vector<Kind> out;
  for (auto& r : replay) out.push_back(r.step.kind);
  return out;
}

RoomDelivery ready_at(uint64_t last) {
  RoomDelivery d;
  d.page_sent(page_up_to(last, last > 3 ? last - 3 : 1));
  return d;
}
}  // namespace

TEST(RoomDelivery, HoldsLiveBatchesUntilThePageIsOutThenDropsTheOverlap) {
  RoomDelivery d;
  EXPECT_FALSE(d.ready());
  EXPECT_EQ(d.offer(batch(5, 6), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.offer(batch(7, 7), nullptr).kind, Kind::kNothing);
  auto replay = d.page_sent(page_up_to(5, 3));
  EXPECT_TRUE(d.ready());
  EXPECT_EQ(d.page_oldest(), 3u);
  ASSERT_EQ(kinds(replay), (std::vector{Kind::kSendTail, Kind::kSendFrame}));
  ASSERT_EQ(replay[0].step.tail.size(), 1u);  // 5 was in the page: only 6
  EXPECT_EQ(replay[0].step.tail[0].seq, 6u);
  EXPECT_EQ(replay[1].held.batch->first_seq(), 7u);
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
  EXPECT_EQ(kinds(d.replay_held()), (std::vector{Kind::kSendFrame, Kind::kSendFrame}));
  EXPECT_EQ(d.last_seq(), 11u);
  EXPECT_TRUE(d.replay_held().empty());
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
  // The held batch first, then the tail check that waited (it carries no batch).
  auto replay = d.replay_held();
  ASSERT_EQ(kinds(replay), (std::vector{Kind::kSendFrame, Kind::kFill}));
  EXPECT_EQ(replay[1].held.batch, nullptr);
  EXPECT_EQ(replay[1].step.fill_after, 9u);
  EXPECT_EQ(replay[1].step.fill_before, kOpenEnd);
  auto none = messages(10, 9);
  ASSERT_EQ(d.fill_done(replay[1].step.fill_id, none), RoomDelivery::FillResult::kDone);
  EXPECT_TRUE(d.replay_held().empty());  // the check ran once
}

TEST(RoomDelivery, ATailCheckBeforeThePageRunsOnceThePageIsOut) {
  RoomDelivery d;
  EXPECT_EQ(d.check_tail().kind, Kind::kNothing);
  auto replay = d.page_sent(page_up_to(4, 1));
  ASSERT_EQ(kinds(replay), (std::vector{Kind::kFill}));
  EXPECT_EQ(replay[0].step.fill_after, 4u);
}

TEST(RoomDelivery, AGapFoundWhileReplayingHoldsWhatFollows) {
  RoomDelivery d;
  d.offer(batch(6, 6), nullptr);
  d.offer(batch(9, 9), nullptr);  // 7 and 8 never came
  d.offer(batch(10, 10), nullptr);
  auto replay = d.page_sent(page_up_to(5, 1));
  ASSERT_EQ(kinds(replay), (std::vector{Kind::kSendFrame, Kind::kFill, Kind::kNothing}));
  EXPECT_EQ(replay[1].step.fill_after, 6u);
  EXPECT_EQ(replay[1].step.fill_before, 9u);
  auto filled = messages(7, 8);
  ASSERT_EQ(d.fill_done(replay[1].step.fill_id, filled), RoomDelivery::FillResult::kDone);
  EXPECT_EQ(kinds(d.replay_held()), (std::vector{Kind::kSendFrame, Kind::kSendFrame}));
  EXPECT_EQ(d.last_seq(), 10u);
}

TEST(RoomDelivery, ARedeliveryHeldBehindAFillIsTrimmedToWhatIsNew) {
  auto d = ready_at(5);
  auto fill = d.offer(batch(8, 8), nullptr);
  d.offer(batch(7, 9), nullptr);  // a redelivery overlapping the fill and the held batch
  auto filled = messages(6, 7);
  ASSERT_EQ(d.fill_done(fill.fill_id, filled), RoomDelivery::FillResult::kDone);
  auto replay = d.replay_held();
  ASSERT_EQ(kinds(replay), (std::vector{Kind::kSendFrame, Kind::kSendTail}));
  ASSERT_EQ(replay[1].step.tail.size(), 1u);
  EXPECT_EQ(replay[1].step.tail[0].seq, 9u);
}

TEST(RoomDelivery, AFailedFillGivesUpUnlessItIsStale) {
  auto d = ready_at(5);
  auto fill = d.offer(batch(9, 9), nullptr);
  EXPECT_TRUE(d.awaits(fill.fill_id));
  EXPECT_EQ(d.fill_failed(fill.fill_id + 1000), RoomDelivery::FillResult::kStale);
  EXPECT_EQ(d.fill_failed(0), RoomDelivery::FillResult::kStale);
  EXPECT_EQ(d.fill_failed(fill.fill_id), RoomDelivery::FillResult::kIncomplete);
  // Nothing is ever sent past the hole, even what would follow it.
  EXPECT_EQ(d.offer(batch(10, 10), nullptr).kind, Kind::kNothing);
}

TEST(RoomDelivery, ACreatedRoomIsLiveFromItsFirstMessage) {
  RoomDelivery d;
  d.created();
  EXPECT_EQ(d.offer(batch(1, 2), nullptr).kind, Kind::kSendFrame);
  EXPECT_EQ(d.last_seq(), 2u);
}

TEST(RoomDelivery, AnEmptyPageStartsTheRoomAtItsFirstMessage) {
  RoomDelivery d;
  EXPECT_TRUE(d.page_sent(RoomPage{}).empty());
  EXPECT_EQ(d.page_oldest(), 1u);  // a resume has nothing before the page to cover
  EXPECT_EQ(d.offer(batch(1, 1), nullptr).kind, Kind::kSendFrame);
  // An empty batch shows nothing and changes nothing.
  EXPECT_EQ(d.offer(std::make_shared<RoomMessages>(), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.last_seq(), 1u);
}

TEST(RoomDelivery, ALaterPageKeepsTheFirstPagesOldestId) {
  auto d = ready_at(5);  // first page: 2..5
  d.page_sent(page_up_to(9, 6));
  EXPECT_EQ(d.page_oldest(), 2u);
  EXPECT_EQ(d.last_seq(), 9u);
}

TEST(RoomDelivery, GivesUpWhenTooMuchIsHeld) {
  RoomDelivery d(2);
  EXPECT_EQ(d.offer(batch(1, 1), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.offer(batch(2, 2), nullptr).kind, Kind::kNothing);
  EXPECT_EQ(d.offer(batch(3, 3), nullptr).kind, Kind::kGiveUp);
}

// Issue #15: every connection holds one per room; what a page or a fill needs lives apart.
TEST(RoomDelivery, AReadyRoomHoldsOnlyItsCursorsAndAFillStillWorks) {
  EXPECT_LE(sizeof(RoomDelivery), 32u);
  auto d = ready_at(5);
  auto step = d.offer(batch(7, 7), nullptr);  // a hole: held, a fill starts
  ASSERT_EQ(step.kind, Kind::kFill);
  EXPECT_EQ(d.offer(batch(8, 8), nullptr).kind, Kind::kNothing);  // held behind the fill
  auto gap = messages(6, 6);
  ASSERT_EQ(d.fill_done(step.fill_id, gap), RoomDelivery::FillResult::kDone);
  EXPECT_EQ(kinds(d.replay_held()), (std::vector<Kind>{Kind::kSendFrame, Kind::kSendFrame}));
  EXPECT_EQ(d.last_seq(), 8u);
  EXPECT_FALSE(d.awaits(step.fill_id));
  EXPECT_EQ(d.offer(batch(9, 9), nullptr).kind, Kind::kSendFrame);
}
