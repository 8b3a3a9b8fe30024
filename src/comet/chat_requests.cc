// ChatSession's client requests (docs/protocol.md "Client → server"): each event is parsed, checked
// against the connection's limits and answered in order, one at a time.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <memory>

#include "comet/chat_session.h"
#include "common/events.h"
#include "common/ids.h"
#include "common/log_ids.h"
#include "common/metrics_events.h"

namespace roomcast {

asio::awaitable<void> ChatSession::on_text(const std::string& message) {
  auto parsed = parse_client_event(message, comet_.config().limits.messages_per_event_max);
  if (parsed.error) {
    send_error(parsed.error->code, parsed.error->message, parsed.error->request_type);
    co_return;
  }
  auto& ev = *parsed.event;
  // A clientMessages event is named here; its messages carry the name through every layer.
  auto trace = ev.kind == ClientEvent::Kind::kMessages ? TraceId::random() : TraceId{};
  try {
    charge(ev);
    co_await handle(ev, trace);
  } catch (const ClientError& e) {
    if (trace)
      log_ids(spdlog::level::debug, LogIds().user(user_.id).room(ev.room_id).trace(trace),
              "comet: clientMessages refused: {}", e.code);
    send_error(e.code, e.what(), ev.type, e.retry_after_ms);
  } catch (const std::exception& e) {
    log_ids(spdlog::level::err, LogIds().user(user_.id).room(ev.room_id).trace(trace),
            "comet: {} failed: {}", ev.type, e.what());
    send_error("INTERNAL", "internal error", ev.type);
  }
}

asio::awaitable<void> ChatSession::handle(ClientEvent& ev, TraceId trace) {
  using Kind = ClientEvent::Kind;
  switch (ev.kind) {
    case Kind::kMessages:
      return post_messages(ev, trace);
    case Kind::kHistory:
      return history(ev);
    case Kind::kCreateRoom:
      return create_room(ev);
    case Kind::kJoinRoom:
      return join_room(ev);
    case Kind::kLeaveRoom:
      return leave_room(ev);
    case Kind::kResume:
      return resume(ev);
    case Kind::kTyping:
      return typing(ev);
    case Kind::kMarkRead:
      return mark_read(ev);
    case Kind::kRoomMembers:
      return room_members(ev);
  }
  throw ClientError("UNKNOWN_TYPE", "unknown event type");
}

// Takes the event's tokens (an event is accepted or refused whole) or throws RATE_LIMITED.
void ChatSession::charge(const ClientEvent& ev) {
  auto now = Clock::now();
  switch (ev.kind) {
    case ClientEvent::Kind::kMessages: {
      auto n = static_cast<double>(ev.messages.size());
      if (n > message_bucket_.burst())
        throw ClientError("BAD_REQUEST", "more messages in one event than the burst allows");
      if (auto wait = message_bucket_.take(n, now)) {
        metrics::rate_limited("messages");
        throw ClientError("RATE_LIMITED", "too many messages; slow down", wait);
      }
      return;
    }
    case ClientEvent::Kind::kTyping:
    case ClientEvent::Kind::kMarkRead:
      return;  // throttled and coalesced on their own (docs/protocol.md), outside the buckets
    default:
      // history, create, join, leave, resume, requestRoomMembers: the "other requests".
      if (auto wait = request_bucket_.take(1, now)) {
        metrics::rate_limited("requests");
        throw ClientError("RATE_LIMITED", "too many requests; slow down", wait);
      }
  }
}

namespace {

// What post_messages_async needs; passed by value into the initiation (GCC 12, see run_blocking).
struct PostArgs {
  LogicApi* logic;
  const User* user;
  const std::string* room_id;
  const std::vector<ClientMessage>* messages;
  TraceId trace;
  asio::thread_pool* blocking;
};

// Awaits LogicApi::post_messages_async and resumes on the caller's loop; rethrows a failure.
auto async_post(PostArgs args) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
      [](auto handler, PostArgs a) {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));  // PostDone is copyable
        a.logic->post_messages_async(*a.user, *a.room_id, *a.messages, a.trace, *a.blocking,
                                     [shared](std::exception_ptr outcome) {
                                       auto ex = asio::get_associated_executor(*shared);
                                       asio::post(
                                           ex, [shared, outcome] { std::move (*shared)(outcome); });
                                     });
      },
      asio::use_awaitable, args);
}

}  // namespace

// The session awaits each post before its next event, so its events reach Logic in order.
asio::awaitable<void> ChatSession::post_messages(ClientEvent& ev, TraceId trace) {
  log_ids(spdlog::level::debug, LogIds().user(user_.id).room(ev.room_id).trace(trace),
          "comet: clientMessages with {} messages on connection {}", ev.messages.size(), id_);
  co_await async_post(
      {&comet_.logic(), &user_, &ev.room_id, &ev.messages, trace, &comet_.blocking()});
}

asio::awaitable<void> ChatSession::history(ClientEvent& ev) {
  const auto& limits = comet_.config().limits;
  uint64_t before = kNoSeq;
  if (ev.first_message_id) {
    auto seq = seq_not_before(*ev.first_message_id);
    if (!seq) throw ClientError("BAD_REQUEST", "firstMessageId is malformed");
    before = *seq;
  }
  int count = static_cast<int>(
      std::clamp<int64_t>(ev.count.value_or(limits.history_page), 1, limits.history_page_max));
  auto& logic = comet_.logic();
  auto page = co_await run_blocking(
      comet_.blocking(), [&] { return logic.room_page(user_.id, ev.room_id, 0, before, count); });
  send_text(room_history_event(ev.room_id, page.messages, page.has_more, false));
}

asio::awaitable<void> ChatSession::create_room(ClientEvent& ev) {
  auto& logic = comet_.logic();
  auto room = co_await run_blocking(comet_.blocking(),
                                    [&] { return logic.create_room(user_, ev.room_name, id_); });
  if (auto* routes = comet_.routes()) {
    std::vector<std::string> ids{room.id};
    co_await run_blocking(comet_.blocking(), [&] {
      routes->rooms_subscribed(ids);
      return true;
    });
  }
  if (!rooms_.count(room.id)) {
    // A new room is empty: the creator sees every message from the first on.
    rooms_[room.id].created();
    comet_.subscribe(shard_, this, room.id);
  }
}

asio::awaitable<void> ChatSession::join_room(ClientEvent& ev) {
  auto& logic = comet_.logic();
  auto room = co_await run_blocking(comet_.blocking(),
                                    [&] { return logic.join_room(user_.id, ev.room_id, id_); });
  std::vector<RoomInfo> rooms;  // (a braced list across co_await trips GCC 12)
  rooms.push_back(std::move(room));
  co_await open_rooms(std::move(rooms), false, true);
}

asio::awaitable<void> ChatSession::leave_room(ClientEvent& ev) {
  auto& logic = comet_.logic();
  co_await run_blocking(comet_.blocking(), [&] {
    logic.leave_room(user_.id, ev.room_id, id_);
    return true;
  });
  drop_room(ev.room_id);
  send_text(left_room_event(ev.room_id));
}

asio::awaitable<void> ChatSession::resume(ClientEvent& ev) {
  // Entries are distinct rooms already (parse_client_event); there cannot be more of them
  // than rooms a user may be in.
  auto max = comet_.config().limits.rooms_per_user_max;
  if (max > 0 && ev.resume.size() > static_cast<std::size_t>(max))
    throw ClientError("BAD_REQUEST", "more resume entries than rooms a user may be in");
  for (auto& entry : ev.resume) {
    if (!entry.room_id_valid) {
      send_error("BAD_REQUEST", "roomId must be 1-64 characters of [A-Za-z0-9_.-]", ev.type);
      continue;
    }
    try {
      co_await resume_room(entry);
    } catch (const ClientError& e) {
      send_error(e.code, std::string(e.what()) + " (room " + entry.room_id + ")", ev.type);
    }
  }
}

asio::awaitable<void> ChatSession::resume_room(const ResumeRoom& entry) {
  auto last = parse_message_id(entry.last_message_id);
  if (!last) throw ClientError("BAD_REQUEST", "lastMessageId is malformed");
  auto it = rooms_.find(entry.room_id);
  if (it == rooms_.end() || !it->second.ready())
    throw ClientError("NOT_MEMBER", "you are not in this room");
  // The gap is what lies between the client's last id and the first page it got here.
  uint64_t before = it->second.page_oldest();
  RoomPage page;
  if (*last + 1 < before) {
    auto& logic = comet_.logic();
    int limit = comet_.config().limits.resume_replay_max;
    auto room_id = entry.room_id;
    uint64_t after = *last;
    page = co_await run_blocking(comet_.blocking(), [&] {
      return logic.room_page(user_.id, room_id, after, before, limit);
    });
  }
  send_text(room_history_event(entry.room_id, page.messages, page.has_more, true));
}

void ChatSession::send_error(const std::string& code, const std::string& message,
                             const std::string& type, int64_t retry_after_ms) {
  send_text(error_event(code, message, type, retry_after_ms));
}

}  // namespace roomcast
