// Comet's write rounds: every session fed is written once per pass, in feed order, a bounded
// number per round; frames fed meanwhile ride along; a session that goes away is never touched.
#include "comet/write_rounds.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace roomcast {
namespace {

// Stands for a connection: frames queue while corked and leave together on uncork().
struct FakeSession {
  FakeSession(std::string n, std::vector<std::string>* l) : name(std::move(n)), log(l) {}
  std::string name;
  std::vector<std::string>* log;
  bool corked = false;
  std::string queued;
  bool cork() { return !std::exchange(corked, true); }
  void uncork() {
    corked = false;
    log->push_back(name + ":" + queued);
    queued.clear();
  }
};

struct Rounds {
  std::vector<std::string> log;
  std::vector<std::pair<int64_t, std::size_t>> written;
  WriteRounds<FakeSession> rounds;
  bool round(std::size_t n) {
    return rounds.write_round(n, [this](int64_t t, std::size_t c) { written.emplace_back(t, c); });
  }
  void feed(FakeSession& s, const std::string& frame) {
    rounds.feed(&s);
    s.queued += frame;
  }
};

TEST(WriteRounds, WritesEachSessionOnceAPassInFeedOrderAFewPerRound) {
  Rounds r;
  std::vector<FakeSession> s;
  for (const char* n : {"a", "b", "c", "d", "e"}) s.emplace_back(n, &r.log);
  for (auto& x : s) r.feed(x, "1");
  for (auto& x : s) r.feed(x, "2");  // corked already: one write carries both
  r.rounds.mark(100, 2);
  EXPECT_TRUE(r.round(2));
  EXPECT_EQ(r.log, (std::vector<std::string>{"a:12", "b:12"}));
  EXPECT_TRUE(r.written.empty());  // not every session of the mark is written yet
  EXPECT_TRUE(r.round(2));
  EXPECT_FALSE(r.round(2));
  EXPECT_EQ(r.log.size(), 5u);
  EXPECT_EQ(r.log.back(), "e:12");
  EXPECT_EQ(r.written, (std::vector<std::pair<int64_t, std::size_t>>{{100, 2}}));
  EXPECT_FALSE(r.rounds.pending());
}

TEST(WriteRounds, AFrameFedMidPassJoinsTheWaitingWritesAndFollowsTheWrittenOnes) {
  Rounds r;
  std::vector<FakeSession> s;
  for (const char* n : {"a", "b", "c", "d"}) s.emplace_back(n, &r.log);
  for (auto& x : s) r.feed(x, "1");
  r.rounds.mark(1, 1);
  EXPECT_TRUE(r.round(2));  // a and b have written 1
  for (auto& x : s) r.feed(x, "2");
  r.rounds.mark(2, 1);
  EXPECT_TRUE(r.round(2));  // c and d write 1 and 2 together
  EXPECT_EQ(r.written.size(), 1u);
  EXPECT_FALSE(r.round(2));  // then a and b write 2, after their 1
  EXPECT_EQ(r.log, (std::vector<std::string>{"a:1", "b:1", "c:12", "d:12", "a:2", "b:2"}));
  EXPECT_EQ(r.written, (std::vector<std::pair<int64_t, std::size_t>>{{1, 1}, {2, 1}}));
}

TEST(WriteRounds, ASessionThatGoesAwayWhileWaitingIsNeverWritten) {
  Rounds r;
  std::vector<FakeSession> s;
  for (const char* n : {"a", "b", "c"}) s.emplace_back(n, &r.log);
  for (auto& x : s) r.feed(x, "1");
  EXPECT_TRUE(r.round(1));
  r.rounds.forget(&s[1]);
  EXPECT_FALSE(r.round(5));
  EXPECT_EQ(r.log, (std::vector<std::string>{"a:1", "c:1"}));
}

TEST(WriteRounds, UnderAStreamOfPushesEachFrameIsWrittenOnceAndNothingPilesUp) {
  Rounds r;
  std::vector<FakeSession> s;
  for (int i = 0; i < 3000; ++i) s.emplace_back(std::to_string(i), &r.log);
  for (int pass = 0; pass < 20; ++pass) {
    for (auto& x : s) r.feed(x, "m");
    r.rounds.mark(pass, 1);
    EXPECT_TRUE(r.round(1000));
  }
  std::size_t rounds = 0;
  while (r.round(1000)) ++rounds;
  // Every session wrote every frame, none twice (the frames fed while it waited share a write).
  std::size_t frames = 0;
  for (auto& line : r.log) frames += line.size() - line.find(':') - 1;
  EXPECT_EQ(frames, 3000u * 20u);
  EXPECT_LT(rounds, 10u);  // what was left is about one pass, not twenty
  EXPECT_EQ(r.written.size(), 20u);
}

}  // namespace
}  // namespace roomcast
