// RouteTable's "suspect until the rebuild time" rule without Redis (tests/infra covers the
// Redis side: the epoch key is recreated by whoever finds it missing).
#include "discovery/route_epoch.h"

#include <gtest/gtest.h>

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using Clock = RouteEpochWatch::Clock;

TEST(RouteEpochWatch, AJobThatJustStartedSuspectsTheRoutesForTheRebuildTime) {
  RouteEpochWatch watch(5s);
  auto t0 = Clock::now();
  EXPECT_FALSE(watch.complete("e1", t0));
  EXPECT_FALSE(watch.lost());  // nothing was lost, it just cannot tell
  EXPECT_FALSE(watch.complete("e1", t0 + 4s));
  EXPECT_TRUE(watch.complete("e1", t0 + 5s));
}

TEST(RouteEpochWatch, AChangedEpochMakesTheRoutesSuspectAgain) {
  RouteEpochWatch watch(5s);
  auto t0 = Clock::now();
  watch.complete("e1", t0);
  EXPECT_TRUE(watch.complete("e1", t0 + 10s));
  EXPECT_FALSE(watch.complete("e2", t0 + 11s));
  EXPECT_TRUE(watch.lost());
  EXPECT_FALSE(watch.complete("e2", t0 + 12s));
  EXPECT_FALSE(watch.lost());  // reported once
  EXPECT_TRUE(watch.complete("e2", t0 + 16s));
}

// A FLUSHALL between the SET NX and the GET of one check: the key reads as missing. That is a
// loss too, and the token the next check creates is one more change: suspect from then on.
TEST(RouteEpochWatch, AFlushBetweenTheWriteAndTheReadOfOneCheckIsALoss) {
  RouteEpochWatch watch(5s);
  auto t0 = Clock::now();
  watch.complete("e1", t0);
  ASSERT_TRUE(watch.complete("e1", t0 + 10s));
  EXPECT_FALSE(watch.complete("", t0 + 11s));
  EXPECT_TRUE(watch.lost());
  EXPECT_FALSE(watch.complete("e2", t0 + 12s));
  EXPECT_FALSE(watch.complete("e2", t0 + 16s));
  EXPECT_TRUE(watch.complete("e2", t0 + 17s));
}

}  // namespace
}  // namespace roomcast
