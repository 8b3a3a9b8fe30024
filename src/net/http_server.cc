#include "net/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ops/ops_endpoints.h"

namespace roomcast {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::pair<std::string, uint16_t> split_host_port(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected HOST:PORT, got " + host_port);
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = std::stoi(host_port.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::invalid_argument("bad port in " + host_port);
  return {host.empty() ? "0.0.0.0" : host, static_cast<uint16_t>(port)};
}

HttpServer::HttpServer(IoPool& loops, asio::thread_pool& blocking, Comet* comet, RestHandler rest,
                       std::string web_root)
    : loops_(loops),
      blocking_(blocking),
      comet_(comet),
      rest_(std::move(rest)),
      web_root_(std::move(web_root)) {}

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

std::string_view mime_type(std::string_view path) {
  auto dot = path.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".webmanifest") return "application/manifest+json";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

template <class Body>
void common_headers(http::response<Body>& res) {
  res.set(http::field::server, "roomcast");
  res.set("X-Content-Type-Options", "nosniff");
}

// Reads a file under `root` for a URL path, refusing anything that escapes the root.
std::optional<std::string> read_static(const std::string& root, std::string_view target,
                                       std::string& path_out) {
  std::string path(target.substr(0, target.find_first_of("?#")));
  if (path.empty() || path.front() != '/' || path.find("..") != std::string::npos ||
      path.find('\\') != std::string::npos || path.find('\0') != std::string::npos)
    return std::nullopt;
  if (path.back() == '/') path += "index.html";
  std::error_code ec;
  std::filesystem::path full = std::filesystem::path(root) / path.substr(1);
  if (!std::filesystem::is_regular_file(full, ec)) return std::nullopt;
  std::ifstream in(full, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  path_out = full.string();
  return ss.str();
}

}  // namespace

asio::awaitable<void> HttpServer::serve(tcp::socket socket, asio::io_context& loop) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(60));  // idle keep-alive and slow clients
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = R"({"id":"BAD_REQUEST","message":"request too large"})";
        res.prepare_payload();
        res.keep_alive(false);
        co_await http::async_write(stream, res, as_tuple_awaitable);
      } else if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted &&
                 ec != beast::error::timeout && ec != asio::error::connection_reset &&
                 ec != asio::error::eof) {
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = R"({"id":"BAD_REQUEST","message":"malformed HTTP request"})";
        res.prepare_payload();
        res.keep_alive(false);
        co_await http::async_write(stream, res, as_tuple_awaitable);
      }
      break;
    }
    auto req = parser.release();
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));

    if (path == "/api/ws" && comet_ && (!ops_ || ops_->ready())) {
      if (beast::websocket::is_upgrade(req)) {
        stream.expires_never();
        std::string leftover = beast::buffers_to_string(buffer.data());
        comet_->accept(loop, stream.release_socket(), std::move(req), std::move(leftover));
        co_return;
      }
      http::response<http::string_body> res{http::status::upgrade_required, req.version()};
      common_headers(res);
      res.set(http::field::content_type, "application/json");
      res.set(http::field::upgrade, "websocket");
      res.set(http::field::connection, "Upgrade");
      res.body() = R"({"id":"UPGRADE_REQUIRED","message":"connect with a WebSocket"})";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(stream, res, as_tuple_awaitable);
      if (!req.keep_alive()) break;
      continue;
    }

    http::response<http::string_body> res{http::status::ok, req.version()};
    common_headers(res);
    res.keep_alive(req.keep_alive());
    if (ops_ && ops_->answers(path)) {
      HttpRequest r;
      r.method = std::string(req.method_string());
      r.path = std::string(path);
      r.authorization = std::string(req[http::field::authorization]);
      auto out = ops_->handle(r);
      res.result(static_cast<unsigned>(out.status));
      for (auto& [k, v] : out.headers) res.set(k, v);
      res.body() = std::move(out.body);
    } else if (path.starts_with("/api/")) {
      HttpRequest r{std::string(req.method_string()), std::string(path), std::move(req.body()),
                    std::string(req[http::field::cookie]),
                    std::string(req[http::field::authorization]),
                    std::string(target.substr(std::min(target.size(), path.size() + 1)))};
      HttpResponse out;
      try {
        // Capture by reference only: GCC 12 destroys by-value captures of a temporary lambda in a
        // co_await expression twice.
        if (inline_ && inline_(r.path))
          out = rest_(r);
        else
          out = co_await run_blocking(blocking_, [this, &r] { return rest_(r); });
      } catch (const std::exception& e) {
        spdlog::error("http: {} failed: {}", path, e.what());
        out = api_error(500, "INTERNAL", "internal error");
      }
      res.result(static_cast<unsigned>(out.status));
      res.set(http::field::content_type, "application/json");
      res.set(http::field::cache_control, "no-store");
      for (auto& [k, v] : out.headers) res.insert(k, v);
      res.body() = std::move(out.body);
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.set(http::field::content_type, "text/plain");
      res.body() = "method not allowed\n";
    } else {
      std::string file;
      std::optional<std::string> body;
      if (!web_root_.empty()) body = read_static(web_root_, target, file);
      if (!body && !web_root_.empty() && path.find('.') == std::string_view::npos) {
        // Client-side routes fall back to the app shell.
        body = read_static(web_root_, "/index.html", file);
      }
      if (body) {
        res.set(http::field::content_type, mime_type(file));
        res.set(http::field::cache_control, "no-cache");
        res.set("Content-Security-Policy",
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
                "frame-ancestors 'none'");
        res.body() = std::move(*body);
      } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "not found\n";
      }
      if (req.method() == http::verb::head) {
        http::response<http::empty_body> head{res.result(), res.version()};
        for (auto& field : res) head.insert(field.name_string(), field.value());
        head.content_length(res.body().size());
        head.keep_alive(req.keep_alive());
        auto [hec, hn] = co_await http::async_write(stream, head, as_tuple_awaitable);
        if (hec || !req.keep_alive()) break;
        continue;
      }
    }
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, as_tuple_awaitable);
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace roomcast
