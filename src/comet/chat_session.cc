#include "comet/chat_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <random>

#include "common/cookie.h"
#include "common/events.h"
#include "common/ids.h"
#include "common/log_ids.h"
#include "common/metrics_events.h"
#include "domain/close_codes.h"

namespace roomcast {

namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
// Connection ids: a random start per process, so ids of different comets do not meet; never 0
// (Logic's "no connection").
uint64_t next_connection_id() {
  static std::atomic<uint64_t> next{(std::random_device{}() * 0x9E3779B97F4A7C15ULL) | 1};
  uint64_t id;
  do id = next.fetch_add(1);
  while (id == 0);
  return id;
}
}  // namespace

ChatSession::ChatSession(Comet& comet, CometShard& shard, tcp::socket socket, std::string leftover)
    : comet_(comet),
      shard_(shard),
      id_(next_connection_id()),
      message_bucket_(comet.config().limits.rate_per_sec, comet.config().limits.rate_burst,
                      Clock::now()),
      request_bucket_(comet.config().limits.request_rate_per_sec,
                      comet.config().limits.request_burst, Clock::now()),
      conn_(*this, std::move(socket), std::move(leftover), shard.ws) {}

void ChatSession::start(Request request) {
  assert_in_loop(shard_.ctx, "ChatSession::start");
  conn_.start(std::move(request));
}

asio::awaitable<bool> ChatSession::on_open(const Request& request) {
  co_await authenticate_and_greet(request);
  co_return registered();
}

void ChatSession::on_closing(uint16_t code, const char* reason, bool by_peer) {
  if (by_peer) {
    log_ids(spdlog::level::debug, LogIds().user(user_.id),
            "comet: connection {} closed by the client ({})", id_, code);
    return;
  }
  // 1011 is this server's failure; the others are the protocol at work (counted in /metrics).
  log_ids(code == close_code::kInternalError ? spdlog::level::warn : spdlog::level::debug,
          LogIds().user(user_.id), "comet: closing connection {} with {} ({})", id_, code, reason);
}

void ChatSession::on_closed() {
  unregister();
}

void ChatSession::close(uint16_t code, const char* reason) {
  assert_in_loop(shard_.ctx, "ChatSession::close");
  conn_.close(code, reason);
}

void ChatSession::follow_membership(const MembershipChange& change) {
  assert_in_loop(shard_.ctx, "ChatSession::follow_membership");
  if (!serving() || change.origin_conn == id_) return;
  if (phase_ != Phase::kReady) {
    // hello may or may not reflect it (the rooms were read concurrently): decide after it.
    early_.push_back(change);
    return;
  }
  if (!change.joined) {
    follow_leave(change.room_id);
    return;
  }
  asio::co_spawn(
      shard_.ctx,
      [self = self(), room = change.room_id]() mutable {
        return self->follow_join(std::move(room));
      },
      asio::detached);
}

asio::awaitable<void> ChatSession::follow_join(std::string room_id) {
  if (!serving() || rooms_.count(room_id)) co_return;
  try {
    std::vector<RoomInfo> rooms;
    rooms.push_back({room_id, ""});
    co_await open_rooms(std::move(rooms), false, true);
  } catch (const std::exception& e) {
    // Typically NOT_MEMBER: the user left again meanwhile, and that leave follows.
    log_ids(spdlog::level::debug, LogIds().user(user_.id).room(room_id),
            "comet: following a join failed: {}", e.what());
  }
}

void ChatSession::follow_leave(const std::string& room_id) {
  if (drop_room(room_id)) send_text(left_room_event(room_id));
}

bool ChatSession::drop_room(const std::string& room_id) {
  if (!rooms_.erase(room_id)) return false;
  comet_.unsubscribe(shard_, this, room_id);
  return true;
}

void ChatSession::unregister() {
  if (!registered()) return;
  for (auto& [room, state] : rooms_) comet_.unsubscribe(shard_, this, room, true);
  rooms_.clear();
  comet_.remove(shard_, this, user_.id);
  if (auto* cluster = comet_.cluster_connections())
    asio::post(comet_.blocking(),
               [cluster, user = user_.id, conn = id_] { cluster->closed(user, conn); });
  phase_ = Phase::kGone;
}

asio::awaitable<void> ChatSession::open_rooms(std::vector<RoomInfo> rooms, bool hello,
                                              bool joined_event) {
  // Subscribe first, then read the pages: a message persisted after the read is pushed after
  // the subscription, so page and live stream leave no gap; overlaps are dropped by id.
  std::vector<std::string> added;
  for (auto& r : rooms) {
    if (rooms_.count(r.id)) continue;
    rooms_[r.id];
    comet_.subscribe(shard_, this, r.id);
    added.push_back(r.id);
  }
  int page_size = comet_.config().limits.history_page;
  std::vector<RoomPage> pages;
  std::exception_ptr failed;
  try {
    pages = co_await run_blocking(comet_.blocking(), [&] {
      std::vector<std::string> ids;
      for (auto& r : rooms) ids.push_back(r.id);
      if (auto* routes = comet_.routes()) routes->rooms_subscribed(ids);
      if (auto* remote = comet_.remote_room_counts()) remote->read_missing(ids);
      auto* reads = comet_.presence_api();
      auto out = reads ? comet_.logic().latest_pages_with_reads(user_.id, ids, page_size, *reads)
                       : comet_.logic().latest_pages(user_.id, ids, page_size);
      add_read_state(out, reads != nullptr);
      return out;
    });
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    // No page, no room: otherwise live messages would wait in `pending` forever.
    for (auto& id : added) {
      auto it = rooms_.find(id);
      if (it != rooms_.end() && !it->second.ready()) drop_room(id);
    }
    std::rethrow_exception(failed);
  }
  add_online_counts(pages);
  if (hello) send_text(hello_event(user_, pages));
  for (auto& page : pages) {
    // Left meanwhile through another connection (serverLeftRoom is out): that wins.
    if (!hello && !rooms_.count(page.room.id)) continue;
    if (joined_event) send_text(joined_room_event(page));
    mark_ready(page.room.id, page);
  }
}

asio::awaitable<void> ChatSession::authenticate_and_greet(const Request& req) {
  // The handshake is complete; a refused client learns why from the close code (1008).
  if (!comet_.origin_allowed(req[http::field::origin], req[http::field::host])) {
    close(close_code::kPolicyViolation, close_reason::kForeignOrigin);
    co_return;
  }
  std::optional<User> user;
  try {
    auto sid = cookie_value(req[http::field::cookie], "sid");
    auto* routes = comet_.routes();
    user = co_await run_blocking(comet_.blocking(), [&logic = comet_.logic(), &sid, routes] {
      auto u = logic.authenticate(sid);
      if (u && routes) routes->user_connected(u->id);
      return u;
    });
  } catch (const std::exception& e) {
    spdlog::error("comet: authentication failed: {}", e.what());
    close(close_code::kInternalError, close_reason::kInternalError);
    co_return;
  }
  if (!user) {
    close(close_code::kPolicyViolation, close_reason::kInvalidSession);
    co_return;
  }
  user_ = *user;
  comet_.add(shard_, this, user_.id);
  phase_ = Phase::kGreeting;
  if (auto* cluster = comet_.cluster_connections()) {
    // Past the per-user limit across all comets: the oldest give way (4008).
    auto displaced =
        co_await run_blocking(comet_.blocking(), [&] { return cluster->opened(user_.id, id_); });
    for (auto conn : displaced)
      comet_.close_connection(conn, close_code::kTooManyConnections,
                              close_reason::kTooManyConnections);
  }
  try {
    auto rooms = co_await run_blocking(comet_.blocking(), [&logic = comet_.logic(), id = user_.id] {
      return logic.user_rooms(id);
    });
    co_await open_rooms(std::move(rooms), true, false);
  } catch (const std::exception& e) {
    log_ids(spdlog::level::err, LogIds().user(user_.id), "comet: hello failed: {}", e.what());
    close(close_code::kInternalError, close_reason::kInternalError);
    co_return;
  }
  phase_ = Phase::kReady;
  auto early = std::move(early_);
  early_.clear();
  for (auto& change : early) follow_membership(change);
}

}  // namespace roomcast
