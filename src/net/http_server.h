// The public listener: HTTP/1.1 with keep-alive. Routes `/api/ws` upgrades to Comet, `/api/*`
// to the REST handler (run off the loops), and everything else to the static web client.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <string>

#include "comet/comet.h"
#include "logic/rest_api.h"
#include "net/io_pool.h"

namespace roomcast {

class OpsEndpoints;

class HttpServer {
 public:
  // `rest` handles /api/* (it may block; it is called on `blocking`).
  using RestHandler = std::function<HttpResponse(const HttpRequest&)>;
  HttpServer(IoPool& loops, asio::thread_pool& blocking, Comet& comet, RestHandler rest,
             std::string web_root)
      : HttpServer(loops, blocking, &comet, std::move(rest), std::move(web_root)) {}
  // Without a Comet (a Logic's REST listener) `/api/ws` answers 404; without a web root (a
  // Job's listener) no static file is served.
  HttpServer(IoPool& loops, asio::thread_pool& blocking, Comet* comet, RestHandler rest,
             std::string web_root);

  // Binds and starts accepting; returns the bound endpoint (port 0 picks a free port).
  asio::ip::tcp::endpoint listen(const std::string& host_port);
  void stop_accepting();
  // Requests whose path matches are handled on the I/O loop instead of the blocking pool: for
  // handlers that never block (the push API over the embedded queue), the two thread hand-offs
  // cost more than the work.
  void run_inline(std::function<bool(std::string_view path)> predicate) {
    inline_ = std::move(predicate);
  }
  // Serves /metrics, /healthz and /readyz (on the loop: they never block). Set before listen().
  void serve_ops(const OpsEndpoints* ops) { ops_ = ops; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket, asio::io_context& loop);

  IoPool& loops_;
  asio::thread_pool& blocking_;
  Comet* comet_;
  RestHandler rest_;
  std::function<bool(std::string_view)> inline_;
  const OpsEndpoints* ops_ = nullptr;
  std::string web_root_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
};

// Splits "host:port" ("[::1]:8080" for IPv6). Throws std::invalid_argument.
std::pair<std::string, uint16_t> split_host_port(const std::string& host_port);

}  // namespace roomcast
