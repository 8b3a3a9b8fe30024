// What a WebSocket connection (ws_connection.h) tells the protocol spoken over it, in the
// manner of Centrifuge's Transport/Client split: the connection knows frames and sockets, the
// handler knows users and rooms.
//
// Every call comes on the connection's I/O loop, in this order: on_open once; then on_text for
// each text message, in the order received, the next one only once the previous one's
// coroutine has completed; on_closing at most once; on_closed once, last. A handler is owned by
// a shared_ptr (make_shared): the connection keeps it alive through shared_from_this() while it
// has an operation pending, so the handler lives as long as its connection has work.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace roomcast {

class WsHandler : public std::enable_shared_from_this<WsHandler> {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  virtual ~WsHandler() = default;

  // The upgrade is answered: accept the connection (authenticate, greet) or refuse it by
  // closing it. Returns whether it was accepted; an accepted connection is then ticked by its
  // owner (WsConnection::tick), a refused one bounds its closing handshake itself. `request`
  // is freed once this returns.
  virtual boost::asio::awaitable<bool> on_open(const Request& request) = 0;
  // One complete text message (UTF-8 checked). Only while the connection is open.
  virtual boost::asio::awaitable<void> on_text(const std::string& message) = 0;
  // The closing handshake starts with `code`: ours (`by_peer` false) or the peer's, which is
  // echoed. For the log; the connection has counted the code already.
  virtual void on_closing(uint16_t code, const char* reason, bool by_peer) = 0;
  // The socket is closed: forget the connection. Not called when the upgrade failed.
  virtual void on_closed() = 0;
};

}  // namespace roomcast
