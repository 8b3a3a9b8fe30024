// The pace of Comet::drain_connections: closes spread evenly over the window, every connection
// closed by its end, short reconnect delays (tests/cluster/ops.test.mjs drains a real comet).
#include "comet/drain_schedule.h"

#include <gtest/gtest.h>

#include <regex>

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using Clock = DrainSchedule::Clock;

TEST(DrainSchedule, ClosesAnEvenShareOfTheConnectionsAsTheWindowPasses) {
  auto t0 = Clock::now();
  DrainSchedule drain(100, 10s, t0);
  EXPECT_EQ(drain.due(t0), 0u);
  EXPECT_EQ(drain.due(t0 + 1s), 10u);
  EXPECT_EQ(drain.due(t0 + 5s), 50u);
  EXPECT_EQ(drain.due(t0 + 9900ms), 99u);
  EXPECT_FALSE(drain.over(t0 + 9999ms));
  EXPECT_TRUE(drain.over(t0 + 10s));
  EXPECT_EQ(drain.due(t0 + 10s), 100u);
  EXPECT_EQ(drain.due(t0 + 60s), 100u);
}

TEST(DrainSchedule, AFewConnectionsStillCloseOneByOneOverTheWindow) {
  auto t0 = Clock::now();
  DrainSchedule drain(3, 3s, t0);
  EXPECT_EQ(drain.due(t0 + 1ms), 1u);  // rounded up: the first goes at once
  EXPECT_EQ(drain.due(t0 + 1500ms), 2u);
  EXPECT_EQ(drain.due(t0 + 2001ms), 3u);
  EXPECT_EQ(drain.tick(), 100ms);  // looks often enough to meet each close's time
}

TEST(DrainSchedule, TheStepsAreBetweenFiveAndAHundredMilliseconds) {
  auto t0 = Clock::now();
  EXPECT_EQ(DrainSchedule(10000, 10s, t0).tick(), 5ms);
  EXPECT_EQ(DrainSchedule(200, 10s, t0).tick(), 50ms);
  EXPECT_EQ(DrainSchedule(0, 10s, t0).tick(), 100ms);
}

TEST(DrainSchedule, ANoWindowDrainClosesEverythingAtOnceWithNoDelay) {
  auto t0 = Clock::now();
  DrainSchedule drain(7, 0ms, t0);
  EXPECT_TRUE(drain.over(t0));
  EXPECT_EQ(drain.due(t0), 7u);
  EXPECT_EQ(drain.max_delay_ms(), 0);
}

TEST(DrainSchedule, ClientsAreToldToWaitAtMostASecond) {
  auto t0 = Clock::now();
  EXPECT_EQ(DrainSchedule(10, 30s, t0).max_delay_ms(), 1000);
  EXPECT_EQ(DrainSchedule(10, 400ms, t0).max_delay_ms(), 400);
}

TEST(DrainSchedule, TheReasonIsReconnectAndTheDelay) {
  EXPECT_EQ(DrainSchedule::reason(0), "reconnect:0");
  EXPECT_EQ(DrainSchedule::reason(734), "reconnect:734");
  EXPECT_TRUE(std::regex_match(DrainSchedule::reason(1000), std::regex("^reconnect:\\d+$")));
}

}  // namespace
}  // namespace roomcast
