#include "comet/ws_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/events.h"
#include "common/ids.h"
#include "common/cookie.h"

namespace roomcast {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

WsSession::WsSession(Comet& comet, CometShard& shard, beast::tcp_stream stream)
    : comet_(comet), shard_(shard), ws_(std::move(stream)) {}

void WsSession::start(http::request<http::string_body> request) {
  asio::co_spawn(
      ws_.get_executor(),
      [self = shared_from_this(), req = std::move(request)]() mutable {
        return self->run(std::move(req));
      },
      asio::detached);
}

asio::awaitable<void> WsSession::run(http::request<http::string_body> req) {
  const auto& limits = comet_.config().limits;
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout{std::chrono::seconds(10),
                                                  websocket::stream_base::none(), false});
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "roomcast"); }));
  ws_.read_message_max(limits.max_frame_bytes);
  ws_.auto_fragment(false);
  ws_.control_callback([this](websocket::frame_type, std::string_view) {
    last_heard_ = Clock::now();  // pongs (and pings) count as signs of life
  });

  auto [accept_ec] = co_await ws_.async_accept(req, as_tuple_awaitable);
  if (accept_ec) co_return;
  last_heard_ = last_ping_ = tokens_at_ = Clock::now();
  tokens_ = limits.rate_burst;

  // The handshake is complete; a refused client learns why from the close code (1008).
  if (!comet_.origin_allowed(req[http::field::origin], req[http::field::host])) {
    close(1008, "origin not allowed");
  } else {
    std::optional<User> user;
    try {
      auto sid = cookie_value(req[http::field::cookie], "sid");
      auto* presence = comet_.presence();
      user = co_await run_blocking(comet_.blocking(), [&logic = comet_.logic(), &sid, presence] {
        auto u = logic.authenticate(sid);
        if (u && presence) presence->user_connected(u->id);
        return u;
      });
    } catch (const std::exception& e) {
      spdlog::error("comet: authentication failed: {}", e.what());
      close(1011, "internal error");
    }
    if (!closing_ && !user) close(1008, "invalid session");
    if (!closing_) {
      user_ = *user;
      comet_.add(shard_, this, user_.id);
      registered_ = true;
      try {
        auto rooms = co_await run_blocking(
            comet_.blocking(), [&logic = comet_.logic(), id = user_.id] { return logic.user_rooms(id); });
        co_await open_rooms(std::move(rooms), true, false);
      } catch (const std::exception& e) {
        spdlog::error("comet: hello for user {} failed: {}", user_.id, e.what());
        close(1011, "internal error");
      }
    }
  }

  for (;;) {
    auto [ec, n] = co_await ws_.async_read(buffer_, as_tuple_awaitable);
    // Beast itself closes with 1009 past read_message_max and 1007 on invalid UTF-8.
    if (ec) break;
    last_heard_ = Clock::now();
    if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      close(1003, "binary frames are not supported");
      continue;
    }
    std::string frame = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > 8192) buffer_.shrink_to_fit();  // a big frame must not pin memory
    if (closing_ || !registered_) continue;
    co_await serve(frame);
  }
  unregister();
}

void WsSession::unregister() {
  if (!registered_) return;
  for (auto& [room, state] : rooms_) comet_.unsubscribe(shard_, this, room);
  rooms_.clear();
  comet_.remove(shard_, this, user_.id);
  registered_ = false;
}

asio::awaitable<void> WsSession::serve(const std::string& frame) {
  auto parsed = parse_client_event(frame);
  if (parsed.error) {
    send_error(parsed.error->code, parsed.error->message, parsed.error->request_type);
    co_return;
  }
  auto& ev = *parsed.event;
  try {
    co_await handle(ev);
  } catch (const ClientError& e) {
    send_error(e.code, e.what(), ev.type);
  } catch (const std::exception& e) {
    spdlog::error("comet: {} from user {} failed: {}", ev.type, user_.id, e.what());
    send_error("INTERNAL", "internal error", ev.type);
  }
}

asio::awaitable<void> WsSession::handle(ClientEvent& ev) {
  using Kind = ClientEvent::Kind;
  switch (ev.kind) {
    case Kind::kMessages: return post_messages(ev);
    case Kind::kHistory: return history(ev);
    case Kind::kCreateRoom: return create_room(ev);
    case Kind::kJoinRoom: return join_room(ev);
    case Kind::kLeaveRoom: return leave_room(ev);
    case Kind::kResume: return resume(ev);
  }
  throw ClientError("UNKNOWN_TYPE", "unknown event type");
}

asio::awaitable<void> WsSession::post_messages(ClientEvent& ev) {
  if (!take_tokens(static_cast<double>(ev.messages.size())))
    throw ClientError("RATE_LIMITED", "too many messages; slow down");
  auto& logic = comet_.logic();
  co_await run_blocking(comet_.blocking(), [&] {
    logic.post_messages(user_, ev.room_id, ev.messages);
    return true;
  });
}

asio::awaitable<void> WsSession::history(ClientEvent& ev) {
  const auto& limits = comet_.config().limits;
  uint64_t before = kNoSeq;
  if (ev.first_message_id) {
    auto seq = parse_message_id(*ev.first_message_id);
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

asio::awaitable<void> WsSession::create_room(ClientEvent& ev) {
  auto& logic = comet_.logic();
  auto room = co_await run_blocking(comet_.blocking(),
                                    [&] { return logic.create_room(user_, ev.room_name); });
  if (auto* presence = comet_.presence()) {
    std::vector<std::string> ids{room.id};
    co_await run_blocking(comet_.blocking(), [&] {
      presence->rooms_subscribed(ids);
      return true;
    });
  }
  if (!rooms_.count(room.id)) {
    // A new room is empty: the creator sees every message from the first on.
    rooms_[room.id].ready = true;
    comet_.subscribe(shard_, this, room.id);
  }
}

asio::awaitable<void> WsSession::join_room(ClientEvent& ev) {
  auto& logic = comet_.logic();
  auto room = co_await run_blocking(comet_.blocking(),
                                    [&] { return logic.join_room(user_.id, ev.room_id); });
  std::vector<RoomInfo> rooms;  // (a braced list across co_await trips GCC 12)
  rooms.push_back(std::move(room));
  co_await open_rooms(std::move(rooms), false, true);
}

asio::awaitable<void> WsSession::leave_room(ClientEvent& ev) {
  auto& logic = comet_.logic();
  co_await run_blocking(comet_.blocking(), [&] {
    logic.leave_room(user_.id, ev.room_id);
    return true;
  });
  if (rooms_.erase(ev.room_id)) comet_.unsubscribe(shard_, this, ev.room_id);
  send_text(left_room_event(ev.room_id));
}

asio::awaitable<void> WsSession::resume(ClientEvent& ev) {
  for (auto& entry : ev.resume) {
    try {
      co_await resume_room(entry);
    } catch (const ClientError& e) {
      send_error(e.code, std::string(e.what()) + " (room " + entry.room_id + ")", ev.type);
    }
  }
}

asio::awaitable<void> WsSession::resume_room(const ResumeRoom& entry) {
  auto last = parse_message_id(entry.last_message_id);
  if (!last) throw ClientError("BAD_REQUEST", "lastMessageId is malformed");
  auto it = rooms_.find(entry.room_id);
  if (it == rooms_.end() || !it->second.ready)
    throw ClientError("NOT_MEMBER", "you are not in this room");
  // The gap is what lies between the client's last id and the first page it got here.
  uint64_t before = it->second.page_oldest;
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

asio::awaitable<void> WsSession::open_rooms(std::vector<RoomInfo> rooms, bool hello,
                                            bool joined_event) {
  // Subscribe first, then read the pages: a message persisted after the read is pushed after
  // the subscription, so page and live stream leave no gap; overlaps are dropped by id.
  for (auto& r : rooms) {
    if (rooms_.count(r.id)) continue;
    rooms_[r.id];
    comet_.subscribe(shard_, this, r.id);
  }
  int page_size = comet_.config().limits.history_page;
  auto pages = co_await run_blocking(comet_.blocking(), [&] {
    if (auto* presence = comet_.presence()) {
      std::vector<std::string> ids;
      for (auto& r : rooms) ids.push_back(r.id);
      presence->rooms_subscribed(ids);
    }
    std::vector<RoomPage> out;
    for (auto& r : rooms) out.push_back(comet_.logic().room_page(user_.id, r.id, 0, kNoSeq, page_size));
    return out;
  });
  if (hello) send_text(hello_event(user_, pages));
  for (auto& page : pages) {
    if (joined_event) send_text(joined_room_event(page));
    mark_ready(page.room.id, page);
  }
}

void WsSession::mark_ready(const std::string& room_id, const RoomPage& page) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  auto& state = it->second;
  uint64_t newest = page.messages.empty() ? 0 : page.messages.front().seq;
  if (!state.ready)
    state.page_oldest = page.messages.empty() ? newest + 1 : page.messages.back().seq;
  state.last_seq = std::max(state.last_seq, newest);
  state.ready = true;
  auto pending = std::move(state.pending);
  state.pending.clear();
  for (auto& batch : pending) deliver_room_messages(batch);
}

void WsSession::deliver_room_messages(const std::shared_ptr<const RoomMessages>& batch) {
  if (closing_) return;
  auto it = rooms_.find(batch->room_id);
  if (it == rooms_.end()) return;
  auto& state = it->second;
  if (!state.ready) {
    state.pending.push_back(batch);
    return;
  }
  if (batch->last_seq() <= state.last_seq) return;  // all seen (page overlap or redelivery)
  if (batch->first_seq() > state.last_seq) {
    state.last_seq = batch->last_seq();
    // The common case: share the batch's bytes (aliasing shared_ptr, no copy).
    send(std::shared_ptr<const std::string>(batch, &batch->event));
    return;
  }
  auto first_new = std::upper_bound(
      batch->messages.begin(), batch->messages.end(), state.last_seq,
      [](uint64_t seq, const StoredMessage& m) { return seq < m.seq; });
  state.last_seq = batch->last_seq();
  send_text(server_messages_event(
      batch->room_id, std::span<const StoredMessage>(&*first_new, batch->messages.end() - first_new)));
}

void WsSession::send(std::shared_ptr<const std::string> event) {
  if (closing_) return;
  const auto& limits = comet_.config().limits;
  if (out_.size() >= limits.outbound_max_events ||
      out_bytes_ + event->size() > limits.outbound_max_bytes) {
    close(1013, "outbound queue full; resume later");
    return;
  }
  out_bytes_ += event->size();
  out_.push_back(std::move(event));
  if (!writing_) write_next();
}

void WsSession::write_next() {
  writing_ = true;
  ws_.text(true);
  ws_.async_write(asio::buffer(*out_.front()),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    self->writing_ = false;
                    self->out_bytes_ -= self->out_.front()->size();
                    self->out_.pop_front();
                    if (ec) {
                      self->closing_ = true;
                      self->out_.clear();
                      self->out_bytes_ = 0;
                      return;
                    }
                    if (!self->out_.empty()) self->write_next();
                  });
}

void WsSession::close(uint16_t code, const char* reason) {
  if (closing_) return;
  closing_ = true;
  // Drop queued output, but not the frame being written.
  while (out_.size() > (writing_ ? 1u : 0u)) {
    out_bytes_ -= out_.back()->size();
    out_.pop_back();
  }
  ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                  [self = shared_from_this()](beast::error_code) {});
}

void WsSession::tick(Clock::time_point now) {
  if (closing_) return;
  const auto& limits = comet_.config().limits;
  if (now - last_heard_ > std::chrono::milliseconds(limits.idle_timeout_ms)) {
    close(1001, "silence timeout");
    return;
  }
  if (!control_busy_ && now - last_ping_ >= std::chrono::milliseconds(limits.ping_interval_ms)) {
    control_busy_ = true;
    last_ping_ = now;
    ws_.async_ping({}, [self = shared_from_this()](beast::error_code) { self->control_busy_ = false; });
  }
}

bool WsSession::take_tokens(double n) {
  const auto& limits = comet_.config().limits;
  auto now = Clock::now();
  tokens_ = std::min(limits.rate_burst,
                     tokens_ + std::chrono::duration<double>(now - tokens_at_).count() *
                                   limits.rate_per_sec);
  tokens_at_ = now;
  if (tokens_ < n) return false;
  tokens_ -= n;
  return true;
}

void WsSession::send_error(const std::string& code, const std::string& message,
                           const std::string& type) {
  send_text(error_event(code, message, type));
}

}  // namespace roomcast
