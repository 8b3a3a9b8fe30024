// WsConnection's upgrade answer: 101 for a well-formed WebSocket upgrade, else 426 with a JSON
// error (docs/protocol.md "WebSocket `/api/ws`").
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>

#include "comet/ws_connection.h"

namespace roomcast {

namespace http = boost::beast::http;
namespace {
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
}  // namespace

asio::awaitable<bool> WsConnection::handshake(const Request& req) {
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

}  // namespace roomcast
