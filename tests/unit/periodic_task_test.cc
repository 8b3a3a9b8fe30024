// PeriodicTask: the discovery loops' heartbeat. It must keep running through failing steps and
// stop promptly, exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "common/periodic_task.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicTask, KeepsStepsGoingThroughFailuresAndStopsOnce) {
  std::atomic<int> steps{0};
  PeriodicTask task("test", 5ms, [&] {
    if (++steps % 2 == 0) throw std::runtime_error("a failing step");
  });
  task.start();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (steps < 6 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_GE(steps.load(), 6) << "failing steps must not end the loop";
  auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(task.stop());
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s) << "stop wakes the thread";
  int after_stop = steps;
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(steps.load(), after_stop) << "no step after stop";
  EXPECT_FALSE(task.stop()) << "clean-up after stop runs once";
}

TEST(PeriodicTask, StopsPromptlyWithALongPeriodAndWithoutStart) {
  std::atomic<int> steps{0};
  PeriodicTask task("test", 1h, [&] { ++steps; });
  task.start();
  auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(task.stop());
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  EXPECT_EQ(steps.load(), 0);
  PeriodicTask never("test", 1ms, [] {});
  EXPECT_TRUE(never.stop());
}

}  // namespace
}  // namespace roomcast
