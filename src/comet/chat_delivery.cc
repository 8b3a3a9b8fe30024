// ChatSession's live delivery: each room's RoomDelivery decides, this file acts — sends, fills a
// gap from the store on the blocking pool, or closes with 4010 ("insufficient state") when the
// gap cannot be filled, so the client resumes instead of silently missing messages.
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>

#include "comet/chat_session.h"
#include "common/events.h"
#include "common/ids.h"
#include "common/log_ids.h"
#include "common/metrics_events.h"
#include "domain/close_codes.h"

namespace roomcast {

static_assert(kOpenEnd == kNoSeq, "a tail fill reads up to the newest message");

namespace {
constexpr int kMaxFillPages = 20;  // a larger gap closes with 4010: the client resumes

// The messages in (after, before) of a room, ascending, read newest first page by page.
std::vector<StoredMessage> read_gap(LogicApi& logic, int64_t user_id, const std::string& room_id,
                                    uint64_t after, uint64_t before, int page_size) {
  std::vector<StoredMessage> newest_first;
  for (int i = 0; i < kMaxFillPages; ++i) {
    auto page = logic.room_page(user_id, room_id, after, before, page_size);
    for (auto& m : page.messages) newest_first.push_back(std::move(m));
    if (!page.has_more || newest_first.empty()) {
      std::reverse(newest_first.begin(), newest_first.end());
      return newest_first;
    }
    before = newest_first.back().seq;
  }
  throw std::runtime_error("gap of more than " + std::to_string(kMaxFillPages) + " pages");
}
}  // namespace

void ChatSession::deliver_room_messages(const std::shared_ptr<const RoomMessages>& batch,
                                        const Frame& frame) {
  if (!conn_.open()) return;
  auto it = rooms_.find(batch->room_id);
  if (it == rooms_.end()) return;
  auto step = it->second.offer(batch, frame);
  if (step.kind == RoomDelivery::Step::Kind::kSendFrame) {
    send_batch(*batch, frame);  // the common case
    return;
  }
  perform(batch->room_id, step);
}

void ChatSession::send_batch(const RoomMessages& batch, const Frame& frame) {
  send(frame);  // the batch's frame, shared with every recipient
  if (conn_.open()) metrics::count_deliveries(batch.messages.begin(), batch.messages.end());
}

void ChatSession::perform(const std::string& room_id, const RoomDelivery::Step& step) {
  using Kind = RoomDelivery::Step::Kind;
  switch (step.kind) {
    case Kind::kNothing:
    case Kind::kSendFrame:  // (handled by the caller, which has the frame)
      return;
    case Kind::kSendTail:
      send_text(server_messages_event(room_id, step.tail));
      if (conn_.open()) metrics::count_deliveries(step.tail.begin(), step.tail.end());
      return;
    case Kind::kFill:
      asio::co_spawn(
          shard_.ctx,
          [self = self(), room_id, step]() mutable {
            return self->fill_gap(std::move(room_id), step);
          },
          asio::detached);
      return;
    case Kind::kGiveUp:
      close(close_code::kInsufficientState, close_reason::kInsufficientState);
      return;
  }
}

void ChatSession::mark_ready(const std::string& room_id, const RoomPage& page) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  replay(room_id, it->second.page_sent(page));
}

// Performs the steps of a replay in order, as long as the connection is open.
void ChatSession::replay(const std::string& room_id, std::vector<RoomDelivery::Replay> steps) {
  for (auto& r : steps) {
    if (!conn_.open()) return;
    if (r.step.kind == RoomDelivery::Step::Kind::kSendFrame)
      send_batch(*r.held.batch, r.held.frame);
    else
      perform(room_id, r.step);
  }
}

void ChatSession::check_tails() {
  assert_in_loop(shard_.ctx, "ChatSession::check_tails");
  if (!serving()) return;
  std::vector<std::pair<std::string, RoomDelivery::Step>> steps;
  for (auto& [room_id, room] : rooms_) steps.emplace_back(room_id, room.check_tail());
  for (auto& [room_id, step] : steps) perform(room_id, step);
}

asio::awaitable<void> ChatSession::fill_gap(std::string room_id, RoomDelivery::Step step) {
  std::vector<StoredMessage> messages;
  try {
    auto& logic = comet_.logic();
    int page_size = comet_.config().limits.history_page_max;
    messages = co_await run_blocking(comet_.blocking(), [&] {
      return read_gap(logic, user_.id, room_id, step.fill_after, step.fill_before, page_size);
    });
  } catch (const std::exception& e) {
    // Left meanwhile (typically NOT_MEMBER), maybe joined again: this fill is moot.
    auto it = rooms_.find(room_id);
    if (!conn_.open() || it == rooms_.end() ||
        it->second.fill_failed(step.fill_id) == RoomDelivery::FillResult::kStale)
      co_return;
    log_ids(spdlog::level::warn, LogIds().user(user_.id).room(room_id),
            "comet: filling the gap after {} failed ({}); closing with 4010",
            message_id(step.fill_after), e.what());
    close(close_code::kInsufficientState, close_reason::kInsufficientState);
    co_return;
  }
  auto it = rooms_.find(room_id);
  if (!conn_.open() || it == rooms_.end()) co_return;
  switch (it->second.fill_done(step.fill_id, messages)) {
    case RoomDelivery::FillResult::kStale:
      co_return;
    case RoomDelivery::FillResult::kIncomplete:
      log_ids(spdlog::level::warn, LogIds().user(user_.id).room(room_id),
              "comet: the store lacks part of the gap after {}; closing with 4010",
              message_id(step.fill_after));
      close(close_code::kInsufficientState, close_reason::kInsufficientState);
      co_return;
    case RoomDelivery::FillResult::kDone:
      break;
  }
  // A fill may carry any messages (docs/protocol.md): pages of at most history_page_max.
  auto chunk = static_cast<std::size_t>(std::max(1, comet_.config().limits.history_page_max));
  for (std::size_t i = 0; i < messages.size(); i += chunk)
    send_text(server_messages_event(room_id, std::span<const StoredMessage>(messages).subspan(
                                                 i, std::min(chunk, messages.size() - i))));
  if (conn_.open()) metrics::count_deliveries(messages.begin(), messages.end());
  replay(room_id, it->second.replay_held());
}

}  // namespace roomcast
