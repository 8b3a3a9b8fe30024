// The pace of a comet's drain (comet_drain.cc), apart from the sockets so it can be tested:
// how many of a loop's connections are closed by a given time, how often the pacer looks, and
// the delay each client is told to wait before reconnecting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace roomcast {

class DrainSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  DrainSchedule(std::size_t connections, std::chrono::milliseconds window, Clock::time_point start);

  // The connections to have closed by `now`: an even share of the window's progress, all of
  // them once it is over.
  std::size_t due(Clock::time_point now) const;
  bool over(Clock::time_point now) const { return now >= end_; }
  // Between two steps: the window shared among the connections, within [5 ms, 100 ms].
  Clock::duration tick() const { return tick_; }
  // The largest delay told to a client: short (at most 1 s), the closes themselves are spread.
  int64_t max_delay_ms() const { return max_delay_ms_; }
  // The close reason telling a client to wait `delay_ms` before reconnecting.
  static std::string reason(int64_t delay_ms);

 private:
  Clock::time_point start_;
  Clock::time_point end_;
  std::size_t total_;
  int64_t max_delay_ms_;
  Clock::duration tick_;
};

}  // namespace roomcast
