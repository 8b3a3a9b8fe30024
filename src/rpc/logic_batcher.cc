#include "rpc/logic_batcher.h"

#include <algorithm>
#include <stdexcept>

namespace roomcast {

LogicBatcher::LogicBatcher(std::size_t max_events, std::size_t max_in_flight, Send send)
    : max_events_(std::max<std::size_t>(1, max_events)),
      max_in_flight_(std::max<std::size_t>(1, max_in_flight)),
      send_(std::move(send)) {}

LogicBatcher::~LogicBatcher() {
  std::deque<BatchedEvent> left;
  {
    std::unique_lock lock(mutex_);
    closing_ = true;
    left.swap(pending_);
    // Calls end by their deadline at the latest; their callbacks still reach this object.
    idle_.wait(lock, [&] { return in_flight_ == 0; });
  }
  auto stopped = std::make_exception_ptr(std::runtime_error("the comet is stopping"));
  for (auto& ev : left) ev.done(stopped);
}

std::vector<BatchedEvent> LogicBatcher::take_locked() {
  std::vector<BatchedEvent> batch;
  if (closing_ || pending_.empty() || in_flight_ >= max_in_flight_) return batch;
  auto n = std::min(max_events_, pending_.size());
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  ++in_flight_;
  return batch;
}

void LogicBatcher::add(BatchedEvent event) {
  std::vector<BatchedEvent> batch;
  {
    std::unique_lock lock(mutex_);
    if (closing_) {
      lock.unlock();
      event.done(std::make_exception_ptr(std::runtime_error("the comet is stopping")));
      return;
    }
    pending_.push_back(std::move(event));
    batch = take_locked();
  }
  if (!batch.empty()) send_(std::move(batch));
}

void LogicBatcher::finished() {
  std::vector<BatchedEvent> batch;
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
    batch = take_locked();
    if (in_flight_ == 0) idle_.notify_all();
  }
  if (!batch.empty()) send_(std::move(batch));
}

std::size_t LogicBatcher::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

std::size_t LogicBatcher::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

}  // namespace roomcast
