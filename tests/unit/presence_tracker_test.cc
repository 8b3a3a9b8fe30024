// PresenceTracker on its own: the grace, leaving a room, per-room coalescing with names, and the
// count-only mode of large rooms. The timer runs on a local io_context.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <string>
#include <vector>

#include "comet/presence_tracker.h"
#include "comet/remote_presence.h"

namespace roomcast {
namespace {

struct Fixture {
  explicit Fixture(PresenceSettings s) : settings(s) {
    tracker = std::make_unique<PresenceTracker>(loop, pool, settings,
                                                [this](const std::string& room, std::string event) {
                                                  events.push_back(room + " " + event);
                                                });
    tracker->start();
  }
  void run_for(int ms) {
    loop.restart();
    loop.run_for(std::chrono::milliseconds(ms));
  }
  PresenceSettings settings;
  boost::asio::io_context loop;
  boost::asio::thread_pool pool{1};
  std::unique_ptr<PresenceTracker> tracker;
  std::vector<std::string> events;
};

PresenceSettings quick() {
  PresenceSettings s;
  s.grace_ms = 200;
  s.window_ms = 300;
  s.large_window_ms = 600;
  s.room_limit = 2;
  return s;
}

const User kAnn{1, "ann"}, kBob{2, "bob"}, kCyd{3, "cyd"};

TEST(PresenceTracker, AClosedConnectionKeepsItsUserForTheGraceOnly) {
  Fixture f(quick());
  f.tracker->connected(kAnn);
  f.tracker->entered(kAnn, "r");
  EXPECT_EQ(f.tracker->room_online("r"), 1);
  f.tracker->exited(kAnn.id, "r", true);
  f.tracker->disconnected(kAnn.id);
  EXPECT_EQ(f.tracker->room_online("r"), 1);
  EXPECT_TRUE(f.tracker->user_state(kAnn.id).online);
  EXPECT_EQ(f.tracker->user_state(kAnn.id).connections, 0);
  f.tracker->connected(kAnn);  // a reload
  f.tracker->entered(kAnn, "r");
  f.run_for(400);
  EXPECT_EQ(f.tracker->room_online("r"), 1);
  f.tracker->exited(kAnn.id, "r", true);
  f.tracker->disconnected(kAnn.id);
  f.run_for(400);
  EXPECT_EQ(f.tracker->room_online("r"), 0);
  EXPECT_FALSE(f.tracker->user_state(kAnn.id).online);
}

TEST(PresenceTracker, LeavingARoomCountsOutAtOnce) {
  Fixture f(quick());
  f.tracker->connected(kAnn);
  f.tracker->entered(kAnn, "r");
  f.tracker->exited(kAnn.id, "r", false);
  EXPECT_EQ(f.tracker->room_online("r"), 0);
  EXPECT_TRUE(f.tracker->user_state(kAnn.id).online);  // still connected
}

TEST(PresenceTracker, ChangesWithinAWindowGoOutAsOneEventWithNames) {
  Fixture f(quick());
  f.tracker->connected(kAnn);
  f.tracker->entered(kAnn, "r");
  f.run_for(120);
  EXPECT_EQ(f.events.size(), 0u) << "even the first change of a quiet room waits a window";
  f.run_for(300);
  ASSERT_EQ(f.events.size(), 1u);
  f.tracker->connected(kBob);
  f.tracker->entered(kBob, "r");
  f.run_for(100);
  EXPECT_EQ(f.events.size(), 1u) << "the window holds the second change";
  f.run_for(350);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_NE(f.events[1].find(R"("online":2,"joined":[{"id":2,"username":"bob"}],"left":[])"),
            std::string::npos)
      << f.events[1];
}

// Three users enter "big" (past quick()'s room_limit 2): one event, with counts only.
void expect_counts_only(Fixture& f) {
  for (auto& u : {kAnn, kBob, kCyd}) {
    f.tracker->connected(u);
    f.tracker->entered(u, "big");
  }
  f.run_for(450);
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_NE(f.events[0].find(R"("online":3,"joined":[],"left":[])"), std::string::npos)
      << f.events[0];
}

TEST(PresenceTracker, LargeRoomsSendCountsOnly) {
  Fixture f(quick());  // without a member counter the online count decides
  expect_counts_only(f);
}

TEST(PresenceTracker, ALaggingMemberCountNeverSendsTheNamesOfALargeRoom) {
  Fixture f(quick());
  f.tracker->set_member_counter([](const std::string&) { return int64_t{1}; });
  expect_counts_only(f);
}

TEST(RemotePresence, AUserIsGoneOnlyWhenItsLastCometSaysSo) {
  RemotePresence remote;
  EXPECT_TRUE(remote.add("r", "c1", kAnn));
  EXPECT_FALSE(remote.add("r", "c2", kAnn));
  EXPECT_FALSE(remote.add("r", "c2", kAnn));  // a repeat changes nothing
  EXPECT_FALSE(remote.remove("r", "c1", kAnn.id));
  EXPECT_TRUE(remote.online_elsewhere("r", kAnn.id));
  EXPECT_TRUE(remote.remove("r", "c2", kAnn.id));
  EXPECT_FALSE(remote.online_elsewhere("r", kAnn.id));
  EXPECT_TRUE(remote.remove("r", "c1", kBob.id));  // unknown: trusted as it comes
  remote.add("r", "c1", kAnn);
  remote.add("r", "c2", kBob);
  remote.add("q", "c1", kBob);
  auto gone = remote.forget_comet("c1");
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_TRUE(remote.online_elsewhere("r", kBob.id));
  EXPECT_FALSE(remote.online_elsewhere("q", kBob.id));
}

// The distributed mode: changes relayed by another comet join the room's next event by name;
// a user online here too is not named twice, and one still online elsewhere is not "left".
TEST(PresenceTracker, MergesNamedChangesOfOtherCometsAndRelaysItsOwn) {
  Fixture f(quick());
  std::vector<std::string> relayed;
  f.tracker->set_change_sink(
      [&](const std::string& room, std::vector<User> joined, std::vector<User> left) {
        relayed.push_back(room + " +" + std::to_string(joined.size()) + " -" +
                          std::to_string(left.size()));
      });
  for (auto& u : {kAnn, kCyd}) {
    f.tracker->connected(u);
    f.tracker->entered(u, "r");
  }
  f.run_for(400);
  EXPECT_EQ(relayed, std::vector<std::string>{"r +2 -0"});
  f.tracker->merge_remote("r", "c2", {kBob, kAnn}, {});
  f.run_for(400);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_NE(f.events[1].find(R"("joined":[{"id":2,"username":"bob"}],"left":[])"),
            std::string::npos)
      << f.events[1];
  // Ann closes here but is online on c2: counted out here, not named.
  f.tracker->exited(kAnn.id, "r", true);
  f.tracker->disconnected(kAnn.id);
  f.run_for(700);
  for (auto& e : f.events) EXPECT_EQ(e.find(R"("left":[{"id":1)"), std::string::npos) << e;
  EXPECT_EQ(relayed.back(), "r +0 -1");  // the others still learn that she left this comet
  auto before = f.events.size();
  f.tracker->forget_comet("c2");  // c2 was swept: Bob and Ann go offline by name
  f.run_for(400);
  ASSERT_EQ(f.events.size(), before + 1);
  EXPECT_NE(f.events.back().find(R"("left":[{"id":1,"username":"ann"},{"id":2,"username":"bob"}])"),
            std::string::npos)
      << f.events.back();
}

}  // namespace
}  // namespace roomcast
