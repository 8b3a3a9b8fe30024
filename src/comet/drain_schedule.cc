#include "comet/drain_schedule.h"

#include <algorithm>
#include <cmath>

#include "domain/close_codes.h"

namespace roomcast {

DrainSchedule::DrainSchedule(std::size_t connections, std::chrono::milliseconds window,
                             Clock::time_point start)
    : start_(start),
      end_(start + window),
      total_(connections),
      max_delay_ms_(std::clamp<int64_t>(window.count(), 0, 1000)),
      tick_(std::clamp<Clock::duration>(
          window / static_cast<int64_t>(std::max<std::size_t>(connections, 1)),
          std::chrono::milliseconds(5), std::chrono::milliseconds(100))) {}

std::size_t DrainSchedule::due(Clock::time_point now) const {
  if (over(now)) return total_;
  double progress =
      std::chrono::duration<double>(now - start_) / std::chrono::duration<double>(end_ - start_);
  return static_cast<std::size_t>(std::ceil(std::max(progress, 0.0) * static_cast<double>(total_)));
}

std::string DrainSchedule::reason(int64_t delay_ms) {
  return close_reason::kReconnectPrefix + std::to_string(delay_ms);
}

}  // namespace roomcast
