#include "comet/room_delivery.h"

#include <algorithm>
#include <atomic>
#include <utility>

namespace roomcast {

namespace {
// Fill ids are unique in the process, so a fill that outlives its room (left, then joined
// again) is never taken for the new room's fill.
uint64_t next_fill_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}
}  // namespace

RoomDelivery::Pending& RoomDelivery::pending() {
  if (!pending_) pending_ = std::make_unique<Pending>();
  return *pending_;
}

void RoomDelivery::release_pending() {
  if (pending_ && pending_->fill == 0 && pending_->held.empty()) pending_.reset();
}

RoomDelivery::Step RoomDelivery::hold(const Batch& batch, const Frame& frame) {
  auto& held_batches = pending().held;
  if (held_batches.size() >= max_held_) return Step(Step::Kind::kGiveUp);
  held_batches.push_back({batch, frame});
  return {};
}

RoomDelivery::Step RoomDelivery::start_fill(uint64_t before) {
  auto& p = pending();
  p.fill = next_fill_id();
  p.fill_before = before;
  Step step(Step::Kind::kFill);
  step.fill_id = p.fill;
  step.fill_after = last_;
  step.fill_before = before;
  return step;
}

RoomDelivery::Step RoomDelivery::offer(const Batch& batch, const Frame& frame) {
  if (!ready_ || fill()) return hold(batch, frame);
  if (batch->messages.empty() || batch->last_seq() <= last_) return {};  // seen
  if (batch->first_seq() > last_ + 1) {
    // A hole: hold this batch and everything after it until the hole is filled.
    auto held = hold(batch, frame);
    if (held.kind == Step::Kind::kGiveUp) return held;
    return start_fill(batch->first_seq());
  }
  if (batch->first_seq() == last_ + 1) {
    last_ = batch->last_seq();
    return Step(Step::Kind::kSendFrame);
  }
  // Overlaps what was sent (page overlap or a redelivery): only the unseen part.
  auto first_new =
      std::upper_bound(batch->messages.begin(), batch->messages.end(), last_,
                       [](uint64_t seq, const StoredMessage& m) { return seq < m.seq; });
  last_ = batch->last_seq();
  Step step(Step::Kind::kSendTail);
  step.tail = std::span<const StoredMessage>(
      &*first_new, static_cast<std::size_t>(batch->messages.end() - first_new));
  return step;
}

std::vector<RoomDelivery::Replay> RoomDelivery::page_sent(const RoomPage& page) {
  uint64_t newest = page.messages.empty() ? 0 : page.messages.front().seq;
  if (!ready_) page_oldest_ = page.messages.empty() ? newest + 1 : page.messages.back().seq;
  last_ = std::max(last_, newest);
  ready_ = true;
  return replay_held();
}

RoomDelivery::Step RoomDelivery::check_tail() {
  if (!ready_ || fill()) {
    tail_due_ = true;
    return {};
  }
  tail_due_ = false;
  return start_fill(kOpenEnd);
}

RoomDelivery::FillResult RoomDelivery::fill_done(uint64_t fill_id,
                                                 std::vector<StoredMessage>& messages) {
  if (!awaits(fill_id)) return FillResult::kStale;
  uint64_t before = pending_->fill_before;
  pending_->fill = 0;
  release_pending();
  uint64_t expect = last_ + 1;
  for (auto& m : messages)
    if (m.seq != expect++) return FillResult::kIncomplete;
  // A bounded gap must be filled up to the batch that revealed it.
  if (before != kOpenEnd && expect != before) return FillResult::kIncomplete;
  if (!messages.empty()) last_ = messages.back().seq;
  return FillResult::kDone;
}

RoomDelivery::FillResult RoomDelivery::fill_failed(uint64_t fill_id) const {
  // The failed fill stays in flight: later batches are held, never sent past the hole.
  return awaits(fill_id) ? FillResult::kIncomplete : FillResult::kStale;
}

std::vector<RoomDelivery::Replay> RoomDelivery::replay_held() {
  std::vector<Replay> out;
  if (pending_ && !pending_->held.empty()) {
    // Offered again from a list of their own: a new gap holds the rest in a fresh one.
    auto held = std::exchange(pending_->held, {});
    release_pending();
    out.reserve(held.size() + 1);
    for (auto& h : held) {
      auto step = offer(h.batch, h.frame);
      out.push_back({std::move(h), step});
    }
  }
  if (tail_due_) {
    auto step = check_tail();  // (waits again if the replay opened a gap)
    if (step.kind != Step::Kind::kNothing) out.push_back({{}, step});
  }
  return out;
}

}  // namespace roomcast
