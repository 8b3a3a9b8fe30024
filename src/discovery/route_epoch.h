// RouteTable's decision, apart from Redis so it can be tested: whether the routes may be
// incomplete. Whoever finds the route epoch key missing recreates it with a new token, so a
// token different from the last one seen means Redis lost the routes (FLUSHALL, restart without
// persistence); the comets then re-announce theirs within `rebuild_time`.
#pragma once

#include <chrono>
#include <string>

namespace roomcast {

class RouteEpochWatch {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RouteEpochWatch(Clock::duration rebuild_time) : rebuild_time_(rebuild_time) {}

  // `epoch` the token read now ("" when it was missing: deleted between the write and the
  // read). False until `rebuild_time` after the token last changed. The first token seen
  // counts as a change: a Job that just started cannot tell how recent the last loss was.
  // Not thread-safe.
  bool complete(const std::string& epoch, Clock::time_point now);
  // True when the last complete() saw the token change from a known one (worth a warning).
  bool lost() const { return lost_; }

 private:
  Clock::duration rebuild_time_;
  std::string epoch_;  // the token last seen
  bool seen_ = false;
  bool lost_ = false;
  Clock::time_point suspect_until_{};
};

}  // namespace roomcast
