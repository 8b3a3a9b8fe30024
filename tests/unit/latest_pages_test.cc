// LogicApi::latest_pages_with_reads, the pages of a hello or join with the user's read position
// in each room: the default asks the PresenceApi once, after the pages, and a position missing
// from an answer (an older Logic's) counts as never read.
#include <gtest/gtest.h>

#include <stdexcept>

#include "fakes/unused_logic_api.h"
#include "logic/logic_api.h"
#include "logic/presence_api.h"

using namespace roomcast;

namespace {

// Pages only: room `r<n>` has one message, seq 10 * n.
class PagesOnly final : public test::UnusedLogicApi {
 public:
  RoomPage room_page(int64_t, const std::string& room_id, uint64_t, uint64_t, int) override {
    RoomPage page;
    page.room.id = room_id;
    StoredMessage m;
    m.room_id = room_id;
    m.seq = 10 * std::stoull(room_id.substr(1));
    page.messages.push_back(m);
    return page;
  }
};

// Read positions 1, 2, 3, ... in the order asked; records each call.
class Positions final : public PresenceApi {
  [[noreturn]] static void unused() { throw std::logic_error("not used here"); }

 public:
  std::vector<uint64_t> read_positions(int64_t user_id,
                                       const std::vector<std::string>& room_ids) override {
    calls.push_back({user_id, room_ids});
    std::vector<uint64_t> out;
    for (std::size_t i = 0; i < room_ids.size(); ++i) out.push_back(i + 1);
    return out;
  }
  ReadState mark_read(int64_t, const std::string&, uint64_t) override { unused(); }
  std::vector<User> room_members(const std::string&, int64_t, int) override { unused(); }
  int64_t member_count(const std::string&) override { unused(); }
  std::vector<std::pair<int64_t, std::vector<std::string>>> calls;
};

TEST(LatestPages, EachPageCarriesTheUsersPositionInItsRoomFromOneCall) {
  PagesOnly logic;
  Positions reads;
  auto pages = logic.latest_pages_with_reads(7, {"r1", "r2", "r3"}, 50, reads);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].room.id, "r1");
  EXPECT_EQ(pages[2].messages.front().seq, 30u);
  EXPECT_EQ(pages[0].last_read_seq, 1u);
  EXPECT_EQ(pages[1].last_read_seq, 2u);
  EXPECT_EQ(pages[2].last_read_seq, 3u);
  ASSERT_EQ(reads.calls.size(), 1u);
  EXPECT_EQ(reads.calls[0].first, 7);
  EXPECT_EQ(reads.calls[0].second, (std::vector<std::string>{"r1", "r2", "r3"}));
}

TEST(LatestPages, APositionMissingFromTheAnswerCountsAsNeverRead) {
  PagesOnly logic;
  auto pages = logic.latest_pages(7, {"r1", "r2"}, 50);
  pages[1].last_read_seq = 99;  // whatever was there before
  set_read_positions(pages, {5});
  EXPECT_EQ(pages[0].last_read_seq, 5u);
  EXPECT_EQ(pages[1].last_read_seq, 0u);
}

}  // namespace
