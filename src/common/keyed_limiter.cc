#include "common/keyed_limiter.h"

#include <algorithm>
#include <cmath>

namespace roomcast {

using std::chrono::milliseconds;

KeyedTokenBuckets::KeyedTokenBuckets(double per_minute, double burst, std::size_t max_keys)
    : per_ms_(per_minute / 60000.0), burst_(std::max(1.0, burst)), buckets_(max_keys) {}

std::optional<milliseconds> KeyedTokenBuckets::take(const std::string& key,
                                                    LimiterClock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& b = buckets_.get_or_insert(key, {burst_, now});
  double elapsed_ms = std::chrono::duration<double, std::milli>(now - b.at).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed_ms) * per_ms_);
  b.at = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  if (per_ms_ <= 0) return milliseconds(60000);
  return milliseconds(static_cast<int64_t>(std::ceil((1 - b.tokens) / per_ms_)));
}

FailureWindows::FailureWindows(int limit, milliseconds window, std::size_t max_keys)
    : limit_(limit), window_(window), windows_(max_keys) {}

std::optional<milliseconds> FailureWindows::blocked(const std::string& key,
                                                    LimiterClock::time_point now) {
  std::lock_guard lock(mutex_);
  auto* w = windows_.find(key);
  if (!w) return std::nullopt;
  auto closes = w->opened + window_;
  if (now >= closes) {
    windows_.erase(key);
    return std::nullopt;
  }
  if (w->failures < limit_) return std::nullopt;
  return std::chrono::ceil<milliseconds>(closes - now);
}

void FailureWindows::record_failure(const std::string& key, LimiterClock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& w = windows_.get_or_insert(key, {0, now});
  if (now >= w.opened + window_) w = {0, now};
  ++w.failures;
}

}  // namespace roomcast
