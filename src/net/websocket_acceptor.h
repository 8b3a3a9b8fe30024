// Where the HTTP server hands a WebSocket upgrade: the chat gateway (Comet) implements it, so
// the listener does not depend on what runs over the connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

namespace roomcast {

class WebSocketAcceptor {
 public:
  virtual ~WebSocketAcceptor() = default;
  // Takes over an upgrade request read by the HTTP server; called on `loop`, the connection's
  // loop. `leftover`: bytes read past the request (the client's first frames). `address_slot`
  // is held for the connection's life (the per-address connection count).
  virtual void accept(boost::asio::io_context& loop, boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> request,
                      std::string leftover, std::shared_ptr<const void> address_slot) = 0;
};

}  // namespace roomcast
