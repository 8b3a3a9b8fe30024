// WsConnection's lifecycle and input: serving the connection, reading and parsing frames,
// answering control frames, closing and the timers. Output is in ws_connection_output.cc.
#include "comet/ws_connection.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/metrics_events.h"
#include "domain/close_codes.h"

namespace roomcast {

using tcp = asio::ip::tcp;

namespace {
constexpr auto kCloseTimeout = std::chrono::seconds(5);
const Frame kPingFrame = std::make_shared<const std::string>(encode_ws_frame(kWsPing, ""));
}  // namespace

WsConnection::WsConnection(WsHandler& handler, tcp::socket socket, std::string leftover,
                           WsLoopContext& loop)
    : handler_(handler),
      loop_(loop),
      socket_(std::move(socket)),
      in_(std::move(leftover)),
      parser_(loop.limits.max_frame_bytes) {}

void WsConnection::start(Request request) {
  asio::co_spawn(
      socket_.get_executor(),
      [this, self = handler_.shared_from_this(), req = std::move(request)]() mutable {
        return run(std::move(req));
      },
      asio::detached);
}

asio::awaitable<void> WsConnection::run(Request req) {
  if (!co_await handshake(req)) {
    close_socket();
    co_return;
  }
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  state_ = State::kOpen;
  last_heard_ = last_ping_or_close_ = Clock::now();

  bool accepted = co_await handler_.on_open(req);
  // The upgrade request lives in this coroutine's frame for the connection's whole life: free
  // its headers (about a kilobyte for a browser's) once the handler has used them.
  req = {};
  if (!accepted) bound_refusal();

  std::vector<WsFrameParser::Event> events;
  bool open = true;
  // Bytes read together with the upgrade request are parsed first.
  if (!in_.empty()) {
    std::string early = std::move(in_);
    in_.clear();
    open = consume(early, events);
  }
  co_await serve_all(events);
  // From here an idle connection holds no coroutine frame (their frames were most of an idle
  // connection's memory): it waits for data with a plain handler, and a coroutine runs only
  // while messages are being served.
  open ? wait_readable() : finish();
}

void WsConnection::bound_refusal() {
  // Refused (the handler closed it): nobody ticks this connection, so bound the wait for the
  // peer's close answer here.
  auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), kCloseTimeout);
  timer->async_wait(
      [this, self = handler_.shared_from_this(), timer](boost::system::error_code ec) {
        if (!ec) close_socket();
      });
}

void WsConnection::wait_readable() {
  socket_.async_wait(tcp::socket::wait_read,
                     [this, self = handler_.shared_from_this()](boost::system::error_code ec) {
                       on_readable(ec);
                     });
}

void WsConnection::on_readable(boost::system::error_code ec) {
  std::vector<WsFrameParser::Event> events;
  bool open = !ec && read_available(events);
  if (events.empty() || !this->open()) {
    open ? wait_readable() : finish();
    return;
  }
  // One message at a time, in order; reading resumes when they are served (back-pressure).
  asio::co_spawn(
      socket_.get_executor(),
      [this, self = handler_.shared_from_this(), events = std::move(events),
       open]() mutable -> asio::awaitable<void> {
        co_await serve_all(events);
        open ? wait_readable() : finish();
      },
      asio::detached);
}

asio::awaitable<void> WsConnection::serve_all(std::vector<WsFrameParser::Event>& events) {
  for (auto& ev : events) {
    if (!open()) break;
    co_await handler_.on_text(ev.payload);
  }
}

void WsConnection::finish() {
  close_socket();
  handler_.on_closed();
}

bool WsConnection::read_available(std::vector<WsFrameParser::Event>& events) {
  // Read through the loop's scratch buffer: only a partial frame is ever kept per connection.
  for (;;) {
    boost::system::error_code rec;
    std::size_t n = socket_.read_some(asio::buffer(loop_.scratch), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) break;
    if (rec || n == 0) return false;  // EOF or reset
    last_heard_ = Clock::now();
    if (!consume(std::string_view(loop_.scratch.data(), n), events)) return false;
    if (n < loop_.scratch.size()) break;
  }
  return true;
}

bool WsConnection::consume(std::string_view data, std::vector<WsFrameParser::Event>& events) {
  std::size_t first = events.size();
  if (in_.empty()) {
    std::size_t used = parser_.parse(data, events);
    in_.assign(data.substr(used));
  } else {
    in_.append(data);
    std::size_t used = parser_.parse(in_, events);
    in_.erase(0, used);
  }
  if (in_.capacity() > 4096 && in_.size() < 1024) in_.shrink_to_fit();
  if (parser_.failure()) parse_failed();
  return answer_control(events, first);
}

void WsConnection::parse_failed() {
  // After a bad close frame the peer sends nothing more: drop TCP once our answer is out.
  bool peer_gone = parser_.peer_closed();
  if (state_ == State::kOpen) {
    close_as(peer_gone ? State::kDraining : State::kClosing, parser_.failure(),
             parser_.failure_reason());
  } else {
    if (peer_gone && state_ == State::kClosing) state_ = State::kDraining;
    if (state_ == State::kDraining && in_flight_ == 0) close_socket();
  }
  in_.clear();
}

bool WsConnection::answer_control(std::vector<WsFrameParser::Event>& events, std::size_t first) {
  std::size_t keep = first;
  for (std::size_t i = first; i < events.size(); ++i) {
    auto& ev = events[i];
    if (ev.opcode == kWsText) {
      if (keep != i) events[keep] = std::move(ev);
      ++keep;
    } else if (ev.opcode == kWsPing) {
      send_pong(ev.payload);
    } else if (ev.opcode == kWsClose) {
      if (state_ != State::kOpen) {
        close_socket();  // the answer to our close: the handshake is complete
        return false;
      }
      // The peer closes: echo its code, then drop the connection once that is written.
      metrics::close_code(ev.close_code);
      handler_.on_closing(ev.close_code, "", true);
      begin_close(
          State::kDraining,
          make_close_frame(
              ev.close_code == close_code::kNoStatus ? close_code::kNormal : ev.close_code, ""));
    }
  }
  events.resize(keep);
  return true;
}

void WsConnection::close(uint16_t code, const char* reason) {
  if (state_ != State::kOpen) return;
  close_as(State::kClosing, code, reason);
}

void WsConnection::close_as(State next, uint16_t code, const char* reason) {
  metrics::close_code(code);
  handler_.on_closing(code, reason, false);
  begin_close(next, make_close_frame(code, reason));
}

void WsConnection::begin_close(State next, Frame close_frame) {
  state_ = next;
  last_ping_or_close_ = Clock::now();
  drop_unsent();
  send_control(std::move(close_frame));
}

void WsConnection::close_socket() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);  // cancels the pending read wait: the connection then finishes
}

void WsConnection::tick(Clock::time_point now) {
  release_idle_storage();
  if (state_ == State::kClosing || state_ == State::kDraining) {
    if (now - last_ping_or_close_ > kCloseTimeout) close_socket();  // the peer never answered
    return;
  }
  if (state_ != State::kOpen) return;
  if (now - last_heard_ > std::chrono::milliseconds(loop_.limits.idle_timeout_ms)) {
    close(close_code::kGoingAway, close_reason::kSilence);
    return;
  }
  if (now - last_ping_or_close_ >= std::chrono::milliseconds(loop_.limits.ping_interval_ms)) {
    last_ping_or_close_ = now;
    send_control(kPingFrame);
  }
}

}  // namespace roomcast
