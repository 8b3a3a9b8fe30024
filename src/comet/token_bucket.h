// A token bucket: `rate` tokens a second, holding at most `burst`. Used per connection for the
// limits of docs/protocol.md (messages; other requests). Not thread-safe: one owner, one thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace roomcast {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full.
  TokenBucket(double rate, double burst, Clock::time_point now)
      : rate_(rate), burst_(burst), tokens_(burst), at_(now) {}

  // Takes `n` tokens and returns 0, or takes nothing and returns the milliseconds until `n`
  // tokens will be there (at least 1). `n` must not exceed the burst.
  int64_t take(double n, Clock::time_point now) {
    refill(now);
    if (tokens_ >= n) {
      tokens_ -= n;
      return 0;
    }
    if (rate_ <= 0) return INT32_MAX;  // a rate of 0 never refills
    double wait_ms = (n - tokens_) / rate_ * 1000.0;
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms)));
  }

  double burst() const { return burst_; }

 private:
  void refill(Clock::time_point now) {
    if (now <= at_) return;
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - at_).count() * rate_);
    at_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point at_;
};

}  // namespace roomcast
