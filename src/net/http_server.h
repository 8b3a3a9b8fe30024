// The public listener: HTTP/1.1 with keep-alive. Routes `/api/ws` upgrades to Comet (a
// WebSocketAcceptor), `/api/*`
// to the REST handler (run off the loops; password hashes on their own pool), and everything
// else to the static web client (held in memory). Enforces the HTTP limits of docs/protocol.md:
// request head size (431) and time, body size (413), idle keep-alive, open connections per
// client address (429), and the POST rules (403 foreign Origin, 415 non-JSON body).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "logic/rest_api.h"
#include "net/address_connections.h"
#include "net/client_address.h"
#include "net/io_pool.h"
#include "net/static_files.h"
#include "net/websocket_acceptor.h"

namespace roomcast {

class OperatorEndpoints;

class HttpServer {
 public:
  // `rest` handles /api/* (it may block; it is called on `blocking`).
  using RestHandler = std::function<HttpResponse(const HttpRequest&)>;
  HttpServer(IoPool& loops, asio::thread_pool& blocking, WebSocketAcceptor& comet, RestHandler rest,
             const std::string& web_root, const Config& config)
      : HttpServer(loops, blocking, &comet, std::move(rest), web_root, config) {}
  // Without a Comet (a Logic's REST listener) `/api/ws` answers 404; without a web root (a
  // Job's listener) no static file is served.
  HttpServer(IoPool& loops, asio::thread_pool& blocking, WebSocketAcceptor* comet, RestHandler rest,
             const std::string& web_root, const Config& config);

  // Binds and starts accepting; returns the bound endpoint (port 0 picks a free port).
  asio::ip::tcp::endpoint listen(const std::string& host_port);
  void stop_accepting();
  // Requests whose path matches are handled on the I/O loop instead of the blocking pool: for
  // handlers that never block (the push API over the embedded queue), the two thread hand-offs
  // cost more than the work. Call before listen().
  void run_inline(std::function<bool(std::string_view path)> predicate) {
    inline_ = std::move(predicate);
  }
  // Where REST responses with a `hash_step` are finished (without it, on the blocking pool).
  // Call before listen().
  void finish_hashes_on(PasswordPool& pool) { hashing_ = &pool; }
  // Serves /metrics, /healthz and /readyz (on the loop: they never block). Set before listen().
  void serve_ops(const OperatorEndpoints* ops) { ops_ = ops; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket, asio::io_context& loop);
  asio::awaitable<HttpResponse> api_response(HttpRequest& r);
  asio::awaitable<HttpResponse> finish_hash_step(std::function<HttpResponse()>& step);

  IoPool& loops_;
  asio::thread_pool& blocking_;
  WebSocketAcceptor* comet_;
  RestHandler rest_;
  const Config& config_;
  StaticFiles static_;
  TrustedProxies proxies_;
  AddressConnections connections_;
  PasswordPool* hashing_ = nullptr;
  const OperatorEndpoints* ops_ = nullptr;
  std::function<bool(std::string_view)> inline_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
};

// Splits "host:port" ("[::1]:8080" for IPv6). Throws std::invalid_argument.
std::pair<std::string, uint16_t> split_host_port(const std::string& host_port);

}  // namespace roomcast
