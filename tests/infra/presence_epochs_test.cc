// The presence topic's state in a real Redis (logic/presence_epochs): flips only on the
// first comet adding and the last removing a user, growing epochs, full batches replacing a
// comet's set, deltas refused from a comet not in step, and the sweep of silent comets only.
// And the comet's outbox (discovery/holdings_outbox): merged changes, kept on a failed send.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "common/ids.h"
#include "discovery/holdings_outbox.h"
#include "logic/presence_epochs.h"
#include "test_env.h"

namespace roomcast {
namespace {

using Holdings = PresenceEpochs::Holdings;

struct Fixture {
  RedisClient redis{test::redis_options()};
  std::string prefix = test::unique("t:") + ":";
  PresenceEpochs epochs{redis, prefix};
  // The comet's liveness as ClusterPresence reports it (ms of its last report).
  void seen(const std::string& comet, int64_t at_ms) {
    redis.command({"ZADD", redis_keys::presence_comets(prefix), std::to_string(at_ms), comet})
        .check();
  }
};

TEST(PresenceEpochs, FlipsOnlyOnTheFirstAndLastHolder) {
  REQUIRE_SERVERS();
  Fixture f;
  auto on = f.epochs.apply("a", true, {{7, true}});
  ASSERT_TRUE(on);
  ASSERT_EQ(on->size(), 1u);
  EXPECT_TRUE((*on)[0].online);
  EXPECT_GE((*on)[0].epoch, now_ms() - 60000);                    // floored at the Redis clock's ms
  EXPECT_TRUE(f.epochs.apply("b", true, {{7, true}})->empty());   // a second comet: nothing
  EXPECT_TRUE(f.epochs.apply("a", false, {{7, true}})->empty());  // a repeat: nothing
  EXPECT_TRUE(f.epochs.apply("a", false, {{7, false}})->empty());
  auto off = f.epochs.apply("b", false, {{7, false}});
  ASSERT_EQ(off->size(), 1u);
  EXPECT_FALSE((*off)[0].online);
  EXPECT_GT((*off)[0].epoch, (*on)[0].epoch);
  EXPECT_TRUE(f.epochs.apply("b", false, {{7, false}})->empty());  // already offline
}

TEST(PresenceEpochs, EpochsGrowAfterRedisLostThem) {
  REQUIRE_SERVERS();
  Fixture f;
  auto first = f.epochs.apply("a", true, {{5, true}});
  f.redis.command({"DEL", redis_keys::presence_epochs(f.prefix)}).check();
  auto second = f.epochs.apply("a", false, {{5, false}});
  ASSERT_EQ(second->size(), 1u);
  EXPECT_GE((*second)[0].epoch, (*first)[0].epoch);  // the clock floor, not 1
}

TEST(PresenceEpochs, AFullBatchReplacesTheCometsSet) {
  REQUIRE_SERVERS();
  Fixture f;
  f.epochs.apply("a", true, {{1, true}, {2, true}});
  auto t = f.epochs.apply("a", true, {{2, true}, {3, true}});
  ASSERT_EQ(t->size(), 2u);
  std::map<int64_t, bool> flips;
  for (auto& x : *t) flips[x.user_id] = x.online;
  EXPECT_EQ(flips, (std::map<int64_t, bool>{{1, false}, {3, true}}));
}

TEST(PresenceEpochs, ADeltaFromACometNotInStepIsRefused) {
  REQUIRE_SERVERS();
  Fixture f;
  EXPECT_FALSE(f.epochs.apply("new", false, {{1, true}}));  // never sent a full batch
  EXPECT_TRUE(f.epochs.apply("new", true, {{1, true}}));
  EXPECT_TRUE(f.epochs.apply("new", false, {}));
}

TEST(PresenceEpochs, TheSweepTakesOnlySilentComets) {
  REQUIRE_SERVERS();
  Fixture f;
  f.seen("alive", now_ms());
  f.seen("dead", now_ms() - 10000);
  f.epochs.apply("alive", true, {{1, true}, {2, true}});
  f.epochs.apply("dead", true, {{2, true}, {3, true}});
  auto swept = f.epochs.sweep(std::chrono::milliseconds(5000));
  ASSERT_EQ(swept.size(), 1u);  // user 2 is still held by "alive"
  EXPECT_EQ(swept[0].user_id, 3);
  EXPECT_FALSE(swept[0].online);
  EXPECT_TRUE(f.epochs.sweep(std::chrono::milliseconds(5000)).empty());
  // The swept comet must send everything again before its deltas count.
  EXPECT_FALSE(f.epochs.apply("dead", false, {{4, true}}));
}

TEST(HoldingsOutbox, MergesChangesAndKeepsThemWhenTheSendFails) {
  std::vector<std::pair<bool, HoldingsOutbox::Holdings>> sent;
  bool fail = false, resync = false;
  HoldingsOutbox outbox([&](bool full, const HoldingsOutbox::Holdings& users) {
    if (fail) throw std::runtime_error("no logic");
    auto sorted = users;
    std::sort(sorted.begin(), sorted.end());
    sent.emplace_back(full, sorted);
    return resync;
  });
  outbox.add(true, {{1, 2}, {2, 0}});  // 2: in its grace, still held
  fail = true;
  EXPECT_THROW(outbox.flush(), std::runtime_error);
  outbox.add(false, {{1, -1}, {3, 1}});
  fail = false;
  EXPECT_FALSE(outbox.flush());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].first);  // still the full batch, with the later changes merged in
  EXPECT_EQ(sent[0].second, (HoldingsOutbox::Holdings{{2, true}, {3, true}}));
  outbox.add(false, {{3, -1}});
  resync = true;
  EXPECT_TRUE(outbox.flush());
  EXPECT_EQ(sent[1], (std::pair<bool, HoldingsOutbox::Holdings>{false, {{3, false}}}));
}

TEST(HoldingsOutbox, ChangesDuringAFailedSendWin) {
  std::vector<HoldingsOutbox::Holdings> sent;
  HoldingsOutbox* self = nullptr;
  bool fail = true;
  HoldingsOutbox outbox([&](bool, const HoldingsOutbox::Holdings& users) {
    if (fail) {
      self->add(false, {{1, -1}});  // the report thread, while the call is on the wire
      throw std::runtime_error("no logic");
    }
    auto sorted = users;
    std::sort(sorted.begin(), sorted.end());
    sent.push_back(sorted);
    return false;
  });
  self = &outbox;
  outbox.add(false, {{1, 1}, {2, 1}});
  EXPECT_THROW(outbox.flush(), std::runtime_error);
  fail = false;
  outbox.flush();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], (HoldingsOutbox::Holdings{{1, false}, {2, true}}));
}

}  // namespace
}  // namespace roomcast
