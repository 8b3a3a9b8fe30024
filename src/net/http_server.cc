#include "net/http_server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <optional>
#include <sstream>

#include "logic/rest_limits.h"
#include "net/api_guard.h"
#include "net/operator_endpoints.h"

namespace roomcast {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::pair<std::string, uint16_t> split_host_port(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("expected HOST:PORT, got " + host_port);
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = std::stoi(host_port.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::invalid_argument("bad port in " + host_port);
  return {host.empty() ? "0.0.0.0" : host, static_cast<uint16_t>(port)};
}

HttpServer::HttpServer(IoPool& loops, asio::thread_pool& blocking, WebSocketAcceptor* comet,
                       RestHandler rest, const std::string& web_root, const Config& config)
    : loops_(loops),
      blocking_(blocking),
      comet_(comet),
      rest_(std::move(rest)),
      config_(config),
      static_(web_root),
      proxies_(config.trusted_proxies),
      connections_(config.limits.connections_per_address) {}

tcp::endpoint HttpServer::listen(const std::string& host_port) {
  auto [host, port] = split_host_port(host_port);
  tcp::endpoint ep(asio::ip::make_address(host), port);
  acceptor_ = std::make_unique<tcp::acceptor>(loops_.at(0));
  acceptor_->open(ep.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(ep);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(loops_.at(0), accept_loop(), asio::detached);
  return acceptor_->local_endpoint();
}

void HttpServer::stop_accepting() {
  asio::post(loops_.at(0), [this] {
    boost::system::error_code ec;
    if (acceptor_) acceptor_->close(ec);
  });
}

asio::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    // Each connection goes to the next loop and stays there.
    auto& loop = loops_.next();
    auto [ec, socket] = co_await acceptor_->async_accept(loop, as_tuple_awaitable);
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await t.async_wait(as_tuple_awaitable);
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(loop, serve(std::move(socket), loop), asio::detached);
  }
}

namespace {

using Response = http::response<http::string_body>;
using Parser = http::request_parser<http::string_body>;

template <class Body>
void common_headers(http::response<Body>& res) {
  res.set(http::field::server, "roomcast");
  res.set("X-Content-Type-Options", "nosniff");
}

Response json_response(http::status status, unsigned version, std::string body) {
  Response res{status, version};
  common_headers(res);
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  return res;
}

Response to_response(HttpResponse out, unsigned version) {
  Response res = json_response(static_cast<http::status>(out.status), version, std::move(out.body));
  if (out.status == 204) res.erase(http::field::content_type);  // no body, no type
  for (auto& [k, v] : out.headers) res.insert(k, v);
  return res;
}

// Reads one request under the time limits of docs/protocol.md: an idle keep-alive connection may
// wait `idle` for the first byte of its next request; from that byte on, the head and the body have
// `head_timeout` (a head trickled a line a second is cut off). Pipelined bytes already in
// `buffer` start the clock at once.
asio::awaitable<beast::error_code> read_request(beast::tcp_stream& stream,
                                                beast::flat_buffer& buffer, Parser& parser,
                                                const Limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.http_head_max_bytes));
  parser.body_limit(limits.http_body_max_bytes);
  if (buffer.size() == 0 && !parser.got_some()) {
    stream.expires_after(std::chrono::milliseconds(limits.http_idle_timeout_ms));
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), as_tuple_awaitable);
    if (ec) co_return ec;
    buffer.commit(n);
  }
  stream.expires_after(std::chrono::milliseconds(limits.http_head_timeout_ms));
  auto [head_ec, head_n] =
      co_await http::async_read_header(stream, buffer, parser, as_tuple_awaitable);
  if (head_ec) co_return head_ec;
  // A client that waits for "100 Continue" before its body (curl does past 1 KiB) would
  // otherwise wait a second for nothing. An over-long body was refused with the head.
  if (!parser.is_done() && parser.get().version() == 11 &&
      beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [write_ec, written] =
        co_await asio::async_write(stream, asio::buffer(kContinue), as_tuple_awaitable);
    if (write_ec) co_return write_ec;
  }
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  co_return ec;
}

// Parses a (pipelined) request that is already whole in `buffer` right here, under the same
// limits, without a trip through the loop: a publisher's burst of pushes is handled in one go.
// True when the request is complete or failed (`ec`); false when more must be read.
bool parse_buffered(beast::flat_buffer& buffer, Parser& parser, const Limits& limits,
                    beast::error_code& ec) {
  parser.header_limit(static_cast<std::uint32_t>(limits.http_head_max_bytes));
  parser.body_limit(limits.http_body_max_bytes);
  parser.eager(true);
  while (buffer.size() > 0 && !parser.is_done()) {
    auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more) {
      ec = {};
      return false;
    }
    if (ec) return true;
    if (used == 0) return false;
  }
  return parser.is_done();
}

// The answers to pipelined requests are collected and written together (one write per burst).
constexpr std::size_t kMaxPendingResponses = 64 * 1024;  // bytes

void append_response(std::string& pending, Response& res) {
  res.prepare_payload();
  std::ostringstream os;
  os << res;
  pending += os.str();
}

asio::awaitable<bool> flush_responses(beast::tcp_stream& stream, std::string& pending,
                                      const Limits& limits) {
  if (pending.empty()) co_return false;
  stream.expires_after(std::chrono::milliseconds(limits.http_head_timeout_ms));
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(pending), as_tuple_awaitable);
  pending.clear();
  co_return static_cast<bool>(ec);
}

// The next request: at once when it is already whole in the buffer (pipelined), else after
// writing the answers collected so far.
asio::awaitable<beast::error_code> next_request(beast::tcp_stream& stream,
                                                beast::flat_buffer& buffer, Parser& parser,
                                                std::string& pending, const Limits& limits) {
  beast::error_code ec;
  bool whole = buffer.size() > 0 && parse_buffered(buffer, parser, limits, ec);
  if (whole && !ec) co_return ec;
  if (co_await flush_responses(stream, pending, limits))
    co_return beast::error_code(asio::error::connection_reset);
  if (whole) co_return ec;
  co_return co_await read_request(stream, buffer, parser, limits);
}

// The answer to a request that could not be read, or nullopt to just close (timeouts, resets).
std::optional<Response> read_error_response(beast::error_code ec) {
  if (ec == http::error::header_limit)
    return json_response(http::status::request_header_fields_too_large, 11,
                         R"({"id":"BAD_REQUEST","message":"request head too large"})");
  if (ec == http::error::body_limit)
    return json_response(http::status::payload_too_large, 11,
                         R"({"id":"BAD_REQUEST","message":"request body too large"})");
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
      ec == beast::error::timeout || ec == asio::error::connection_reset || ec == asio::error::eof)
    return std::nullopt;
  return json_response(http::status::bad_request, 11,
                       R"({"id":"BAD_REQUEST","message":"malformed HTTP request"})");
}

Response too_many_connections(unsigned version) {
  auto res = to_response(
      rate_limited(std::chrono::milliseconds(1000), "too many connections from this address"),
      version);
  res.keep_alive(false);
  return res;
}

Response upgrade_required(unsigned version) {
  auto res = json_response(http::status::upgrade_required, version,
                           R"({"id":"UPGRADE_REQUIRED","message":"connect with a WebSocket"})");
  res.set(http::field::upgrade, "websocket");
  res.set(http::field::connection, "Upgrade");
  return res;
}

Response static_response(const StaticFiles& files, const http::request<http::string_body>& req) {
  Response res{http::status::ok, req.version()};
  common_headers(res);
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.set(http::field::content_type, "text/plain");
    res.body() = "method not allowed\n";
    return res;
  }
  std::string_view target = req.target();
  const StaticFile* file = files.find(target.substr(0, target.find_first_of("?#")));
  if (!file) {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain");
    res.body() = "not found\n";
    return res;
  }
  res.set(http::field::content_type, file->mime_type);
  res.set(http::field::cache_control, "no-cache");
  res.set("Content-Security-Policy",
          "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
          "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
          "frame-ancestors 'none'");
  res.body() = file->content;
  return res;
}

Response ops_response(const OperatorEndpoints& ops, const http::request<http::string_body>& req,
                      std::string_view path) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.path = std::string(path);
  r.authorization = std::string(req[http::field::authorization]);
  auto out = ops.handle(r);
  Response res{static_cast<http::status>(out.status), req.version()};
  common_headers(res);
  for (auto& [k, v] : out.headers) res.set(k, v);
  res.body() = std::move(out.body);
  return res;
}

// Writes `res`; for HEAD only its head (with the Content-Length of the body it would have had).
asio::awaitable<beast::error_code> write_response(beast::tcp_stream& stream, Response& res,
                                                  bool head_only) {
  res.prepare_payload();
  if (!head_only) {
    auto [ec, n] = co_await http::async_write(stream, res, as_tuple_awaitable);
    co_return ec;
  }
  http::response<http::empty_body> head{res.result(), res.version()};
  for (auto& field : res) head.insert(field.name_string(), field.value());
  head.keep_alive(res.keep_alive());
  auto [ec, n] = co_await http::async_write(stream, head, as_tuple_awaitable);
  co_return ec;
}

// Writes the answer, or keeps it with the others while pipelined requests wait in the buffer.
// True when the connection is done (a failed write, or no keep-alive).
asio::awaitable<bool> answer(beast::tcp_stream& stream, std::string& pending, Response& res,
                             bool head_only, bool more_buffered, const Limits& limits) {
  if (!head_only && (more_buffered || !pending.empty())) {
    append_response(pending, res);
    if (res.keep_alive() && more_buffered && pending.size() < kMaxPendingResponses) co_return false;
    // (No co_await inside || or ?: : GCC 12 miscompiles it.)
    bool failed = co_await flush_responses(stream, pending, limits);
    co_return failed || !res.keep_alive();
  }
  if (co_await flush_responses(stream, pending, limits)) co_return true;
  auto ec = co_await write_response(stream, res, head_only);
  co_return ec || !res.keep_alive();
}

}  // namespace

asio::awaitable<HttpResponse> HttpServer::finish_hash_step(std::function<HttpResponse()>& step) {
  if (!hashing_) co_return co_await run_blocking(blocking_, [&step] { return step(); });
  // Resumes on this connection's loop with the step's response, or at once when the pool's
  // queue is full.
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(HttpResponse)>(
      [this, &step](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto complete = [shared](HttpResponse out) {
          auto ex = asio::get_associated_executor(*shared);
          asio::post(ex, [shared, out = std::move(out)]() mutable {
            std::move (*shared)(std::move(out));
          });
        };
        bool queued = hashing_->try_post([complete, step = std::move(step)]() mutable {
          HttpResponse out;
          try {
            out = step();
          } catch (const std::exception& e) {
            spdlog::error("http: password step failed: {}", e.what());
            out = api_error(500, "INTERNAL", "internal error");
          }
          complete(std::move(out));
        });
        if (!queued) complete(hashing_busy());
      },
      asio::use_awaitable);
}

asio::awaitable<HttpResponse> HttpServer::api_response(HttpRequest& r) {
  HttpResponse out;
  try {
    // Capture by reference only: GCC 12 destroys by-value captures of a temporary lambda in a
    // co_await expression twice.
    if (inline_ && inline_(r.path))
      out = rest_(r);
    else
      out = co_await run_blocking(blocking_, [this, &r] { return rest_(r); });
    if (out.hash_step) out = co_await finish_hash_step(out.hash_step);
  } catch (const std::exception& e) {
    spdlog::error("http: {} failed: {}", r.path, e.what());
    out = api_error(500, "INTERNAL", "internal error");
  }
  co_return out;
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket, asio::io_context& loop) {
  boost::system::error_code peer_ec;
  auto peer = socket.remote_endpoint(peer_ec).address();
  if (peer_ec) co_return;
  // A direct client holds a slot of its address from the start. A trusted proxy's connection
  // carries requests of many clients: there only an upgrade takes a slot, of the forwarded client.
  bool proxied = proxies_.trusted(peer);
  bool per_address = config_.limits.per_address != 0;
  std::shared_ptr<const void> slot;
  if (per_address && !proxied) slot = connections_.acquire(peer.to_string());
  bool over_limit = per_address && !proxied && !slot;

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  std::string pending;  // answers to pipelined requests, not written yet
  for (;;) {
    Parser parser;
    if (auto ec = co_await next_request(stream, buffer, parser, pending, config_.limits)) {
      if (auto res = read_error_response(ec)) {
        res->keep_alive(false);
        co_await write_response(stream, *res, false);
      }
      break;
    }
    auto req = parser.release();
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    Response res;
    if (over_limit) {
      res = too_many_connections(req.version());
    } else if (path == "/api/ws" && comet_ && (!ops_ || ops_->ready()) &&
               beast::websocket::is_upgrade(req)) {
      if (per_address && proxied)
        slot = connections_.acquire(proxies_.client_of(peer, req["X-Forwarded-For"]));
      if (!per_address || slot) {
        if (co_await flush_responses(stream, pending, config_.limits)) break;
        stream.expires_never();
        std::string leftover = beast::buffers_to_string(buffer.data());
        comet_->accept(loop, stream.release_socket(), std::move(req), std::move(leftover),
                       std::move(slot));
        co_return;
      }
      res = too_many_connections(req.version());
    } else if (path == "/api/ws" && comet_ && (!ops_ || ops_->ready())) {
      res = upgrade_required(req.version());
    } else if (ops_ && ops_->answers(path)) {
      res = ops_response(*ops_, req, path);
    } else if (path.starts_with("/api/")) {
      auto refused =
          req.method() != http::verb::post
              ? std::nullopt
              : refuse_post({req[http::field::origin], req[http::field::host],
                             req[http::field::content_type],
                             req.count(http::field::content_type) > 0, req.body().size()},
                            config_.allowed_origins);
      HttpRequest r{std::string(req.method_string()),
                    std::string(path),
                    std::move(req.body()),
                    std::string(req[http::field::cookie]),
                    std::string(req[http::field::authorization]),
                    std::string(target.substr(std::min(target.size(), path.size() + 1))),
                    proxies_.client_of(peer, req["X-Forwarded-For"])};
      HttpResponse out;
      if (refused)
        out = std::move(*refused);
      else
        out = co_await api_response(r);
      res = to_response(std::move(out), req.version());
    } else {
      res = static_response(static_, req);
    }
    res.keep_alive(res.keep_alive() && req.keep_alive());
    bool head_only = req.method() == http::verb::head && !path.starts_with("/api/");
    if (co_await answer(stream, pending, res, head_only, buffer.size() > 0, config_.limits)) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace roomcast
