// Opening a WsSession: the upgrade answer, authentication of the session cookie and `hello`.
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>

#include "comet/ws_session.h"
#include "common/cookie.h"
#include "common/log_ids.h"

namespace roomcast {

namespace http = boost::beast::http;
namespace {
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
}  // namespace

asio::awaitable<bool> WsSession::handshake(const http::request<http::string_body>& req) {
  auto key = req[http::field::sec_websocket_key];
  if (req.method() == http::verb::get && key.size() == 24 &&
      req[http::field::sec_websocket_version] == "13") {
    std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Server: roomcast\r\nSec-WebSocket-Accept: " +
        ws_accept_key(key) + "\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(response), as_tuple_awaitable);
    co_return !ec;
  }
  // Built by Beast, so the headers always agree with the body.
  http::response<http::string_body> res{http::status::upgrade_required, req.version()};
  res.set(http::field::server, "roomcast");
  res.set(http::field::sec_websocket_version, "13");
  res.set(http::field::content_type, "application/json");
  res.body() = R"({"id":"BAD_REQUEST","message":"bad WebSocket handshake"})";
  res.keep_alive(false);
  res.prepare_payload();
  co_await http::async_write(socket_, res, as_tuple_awaitable);
  co_return false;
}

asio::awaitable<void> WsSession::authenticate_and_greet(
    const http::request<http::string_body>& req) {
  // The handshake is complete; a refused client learns why from the close code (1008).
  if (!comet_.origin_allowed(req[http::field::origin], req[http::field::host])) {
    close(1008, "origin not allowed");
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
    close(1011, "internal error");
    co_return;
  }
  if (!user) {
    close(1008, "invalid session");
    co_return;
  }
  user_ = *user;
  comet_.add(shard_, this, user_.id);
  registered_ = true;
  if (auto* cluster = comet_.cluster_connections()) {
    // Past the per-user limit across all comets: the oldest give way (4008).
    auto displaced =
        co_await run_blocking(comet_.blocking(), [&] { return cluster->opened(user_.id, id_); });
    for (auto conn : displaced) comet_.close_connection(conn, 4008, kTooManyConnections);
  }
  try {
    auto rooms = co_await run_blocking(comet_.blocking(), [&logic = comet_.logic(), id = user_.id] {
      return logic.user_rooms(id);
    });
    co_await open_rooms(std::move(rooms), true, false);
  } catch (const std::exception& e) {
    log_ids(spdlog::level::err, LogIds().user(user_.id), "comet: hello failed: {}", e.what());
    close(1011, "internal error");
    co_return;
  }
  greeted_ = true;
  auto early = std::move(early_);
  early_.clear();
  for (auto& change : early) follow_membership(change);
}

}  // namespace roomcast
