#include "comet/ws_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <random>

#include "common/events.h"
#include "common/ids.h"
#include "common/log_ids.h"
#include "common/metrics_events.h"

namespace roomcast {

namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {
constexpr std::size_t kMaxGather = 64;               // frames per write
constexpr std::size_t kMaxGatherBytes = 256 * 1024;  // bytes per write
constexpr auto kCloseTimeout = std::chrono::seconds(5);
const Frame kPingFrame = std::make_shared<const std::string>(encode_ws_frame(kWsPing, ""));

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

WsSession::WsSession(Comet& comet, CometShard& shard, tcp::socket socket, std::string leftover)
    : comet_(comet),
      shard_(shard),
      id_(next_connection_id()),
      socket_(std::move(socket)),
      in_(std::move(leftover)),
      parser_(comet.config().limits.max_frame_bytes),
      message_bucket_(comet.config().limits.rate_per_sec, comet.config().limits.rate_burst,
                      Clock::now()),
      request_bucket_(comet.config().limits.request_rate_per_sec,
                      comet.config().limits.request_burst, Clock::now()) {}

void WsSession::start(http::request<http::string_body> request) {
  asio::co_spawn(
      socket_.get_executor(),
      [self = shared_from_this(), req = std::move(request)]() mutable {
        return self->run(std::move(req));
      },
      asio::detached);
}

asio::awaitable<void> WsSession::run(http::request<http::string_body> req) {
  if (!co_await handshake(req)) {
    close_socket();
    co_return;
  }
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  last_heard_ = last_ping_ = Clock::now();

  co_await authenticate_and_greet(req);
  // The upgrade request lives in this coroutine's frame for the connection's whole life: free
  // its headers (about a kilobyte for a browser's) once authentication has used them.
  req = {};
  if (!registered_) {
    // Refused (1008/1011): the sweep does not watch unregistered sessions, so bound the wait
    // for the peer's close answer here.
    auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), kCloseTimeout);
    timer->async_wait([self = shared_from_this(), timer](boost::system::error_code ec) {
      if (!ec) self->close_socket();
    });
  }

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
  // while events are being served.
  open ? wait_readable() : finish();
}

void WsSession::wait_readable() {
  socket_.async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void WsSession::on_readable(boost::system::error_code ec) {
  std::vector<WsFrameParser::Event> events;
  bool open = !ec && read_available(events);
  if (events.empty() || closing_ || !registered_) {
    open ? wait_readable() : finish();
    return;
  }
  // One event at a time, in order; reading resumes when they are served (back-pressure).
  asio::co_spawn(
      socket_.get_executor(),
      [self = shared_from_this(), events = std::move(events),
       open]() mutable -> asio::awaitable<void> {
        co_await self->serve_all(events);
        open ? self->wait_readable() : self->finish();
      },
      asio::detached);
}

asio::awaitable<void> WsSession::serve_all(std::vector<WsFrameParser::Event>& events) {
  for (auto& ev : events) {
    if (closing_ || !registered_) break;
    co_await serve(ev.payload);
  }
}

void WsSession::finish() {
  close_socket();
  unregister();
}

void WsSession::follow_membership(const MembershipChange& change) {
  if (closing_ || !registered_ || change.origin_conn == id_) return;
  if (!greeted_) {
    // hello may or may not reflect it (the rooms were read concurrently): decide after it.
    early_.push_back(change);
    return;
  }
  if (!change.joined) {
    follow_leave(change.room_id);
    return;
  }
  asio::co_spawn(
      socket_.get_executor(),
      [self = shared_from_this(), room = change.room_id]() mutable {
        return self->follow_join(std::move(room));
      },
      asio::detached);
}

asio::awaitable<void> WsSession::follow_join(std::string room_id) {
  if (closing_ || !registered_ || rooms_.count(room_id)) co_return;
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

void WsSession::follow_leave(const std::string& room_id) {
  if (drop_room(room_id)) send_text(left_room_event(room_id));
}

bool WsSession::drop_room(const std::string& room_id) {
  if (!rooms_.erase(room_id)) return false;
  comet_.unsubscribe(shard_, this, room_id);
  return true;
}

bool WsSession::read_available(std::vector<WsFrameParser::Event>& events) {
  // Read through the loop's scratch buffer: only a partial frame is ever kept per connection.
  auto& scratch = shard_.scratch;
  for (;;) {
    boost::system::error_code rec;
    std::size_t n = socket_.read_some(asio::buffer(scratch), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) break;
    if (rec || n == 0) return false;  // EOF or reset
    last_heard_ = Clock::now();
    if (!consume(std::string_view(scratch.data(), n), events)) return false;
    if (n < scratch.size()) break;
  }
  return true;
}

bool WsSession::consume(std::string_view data, std::vector<WsFrameParser::Event>& events) {
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
  if (parser_.failure()) {
    // After a bad close frame the peer sends nothing more: drop TCP once our answer is out.
    if (parser_.peer_closed()) close_after_write_ = true;
    if (closing_ && close_after_write_ && !writing_) close_socket();
    close(parser_.failure(), parser_.failure_reason());
    in_.clear();
  }
  // Control frames are answered here; text messages stay in `events` for serve().
  std::size_t keep = first;
  for (std::size_t i = first; i < events.size(); ++i) {
    auto& ev = events[i];
    if (ev.opcode == kWsText) {
      if (keep != i) events[keep] = std::move(ev);
      ++keep;
    } else if (ev.opcode == kWsPing) {
      send_pong(ev.payload);
    } else if (ev.opcode == kWsClose) {
      if (closing_) {
        close_socket();  // the answer to our close: the handshake is complete
        return false;
      }
      // The peer closes: echo its code, then drop the connection once that is written.
      metrics::close_code(ev.close_code);
      log_ids(spdlog::level::debug, LogIds().user(user_.id),
              "comet: connection {} closed by the client ({})", id_, ev.close_code);
      closing_ = true;
      close_after_write_ = true;
      close_started_ = Clock::now();
      drop_unsent();
      send_control(make_close_frame(ev.close_code == 1005 ? 1000 : ev.close_code, ""));
    }
  }
  events.resize(keep);
  return true;
}

void WsSession::unregister() {
  if (!registered_) return;
  for (auto& [room, state] : rooms_) comet_.unsubscribe(shard_, this, room, true);
  rooms_.clear();
  comet_.remove(shard_, this, user_.id);
  if (auto* cluster = comet_.cluster_connections())
    asio::post(comet_.blocking(),
               [cluster, user = user_.id, conn = id_] { cluster->closed(user, conn); });
  registered_ = false;
}

asio::awaitable<void> WsSession::open_rooms(std::vector<RoomInfo> rooms, bool hello,
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
      auto out = comet_.logic().latest_pages(user_.id, ids, page_size);
      add_read_state(out);
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

void WsSession::send(Frame frame) {
  if (closing_) return;
  if (!fits_outbound(1, frame->size())) {
    close(1013, "outbound queue full; resume later");
    return;
  }
  send_control(std::move(frame));
}

void WsSession::send_many(const std::vector<Frame>& frames) {
  if (closing_) return;
  std::size_t bytes = 0;
  for (auto& f : frames) bytes += f->size();
  if (!fits_outbound(frames.size(), bytes)) {
    close(1013, "outbound queue full; resume later");
    return;
  }
  if (!socket_.is_open()) return;
  out_bytes_ += bytes;
  out_.insert(out_.end(), frames.begin(), frames.end());
  if (!writing_ && !corked_) write_next();
}

bool WsSession::fits_outbound(std::size_t events, std::size_t bytes) const {
  std::size_t queued = out_.size() - out_head_;
  // One event always fits into an empty queue: however big hello or a page is, a connection
  // can start (pages are bounded by size, so this stays bounded too).
  if (queued == 0 && events == 1) return true;
  const auto& limits = comet_.config().limits;
  return queued + events <= limits.outbound_max_events &&
         out_bytes_ + bytes <= limits.outbound_max_bytes;
}

void WsSession::uncork() {
  corked_ = false;
  if (!writing_) write_next();
}

void WsSession::send_pong(std::string_view payload) {
  auto frame = std::make_shared<const std::string>(encode_ws_frame(kWsPong, payload));
  // At most one pong waits: a newer ping makes an unsent older pong moot (RFC 6455 §5.5.3).
  if (pending_pong_) {
    for (std::size_t i = out_.size(); i-- > out_head_ + in_flight_;) {
      if (out_[i] != pending_pong_) continue;
      out_bytes_ = out_bytes_ - out_[i]->size() + frame->size();
      out_[i] = pending_pong_ = std::move(frame);
      return;
    }
  }
  // Owed pongs count against the outbound queue like any event (close 1013 past it).
  send(frame);
  if (!out_.empty() && out_.back() == frame) pending_pong_ = std::move(frame);
}

// Queues a frame regardless of the limits (pings, close frames).
void WsSession::send_control(Frame frame) {
  if (!socket_.is_open()) return;
  out_bytes_ += frame->size();
  out_.push_back(std::move(frame));
  if (!writing_ && !corked_) write_next();
}

void WsSession::write_next() {
  while (out_head_ < out_.size()) {
    write_buffers_.clear();
    std::size_t bytes = 0;
    in_flight_ = 0;
    for (std::size_t i = out_head_;
         i < out_.size() && in_flight_ < kMaxGather && bytes < kMaxGatherBytes; ++i) {
      write_buffers_.push_back(asio::buffer(*out_[i]));
      bytes += out_[i]->size();
      ++in_flight_;
    }
    // The socket is non-blocking: try the write right here. Usually the kernel takes it all,
    // and a delivery then costs one sendmsg and no asynchronous operation at all.
    boost::system::error_code ec;
    std::size_t n = socket_.write_some(write_buffers_, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      n = 0;
    } else if (ec) {
      close_socket();
      return;
    }
    if (n == bytes) {
      release_written(in_flight_);
      continue;
    }
    // Partial: retire the frames fully written, then let Asio finish the rest.
    std::size_t done = 0;
    while (n >= out_[out_head_ + done]->size()) n -= out_[out_head_ + done++]->size();
    release_written(done);
    in_flight_ -= done;
    write_buffers_.erase(write_buffers_.begin(), write_buffers_.begin() + static_cast<long>(done));
    write_buffers_.front() += n;
    writing_ = true;
    asio::async_write(socket_, write_buffers_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->on_written(ec);
                      });
    return;
  }
  in_flight_ = 0;
  if (write_buffers_.capacity() > write_buffers_.static_capacity)
    decltype(write_buffers_)().swap(write_buffers_);  // back to the inline storage
  if (close_after_write_) close_socket();
}

void WsSession::release_written(std::size_t frames) {
  for (std::size_t i = 0; i < frames; ++i) {
    if (out_[out_head_ + i] == pending_pong_) pending_pong_.reset();
    out_bytes_ -= out_[out_head_ + i]->size();
  }
  out_head_ += frames;
  if (out_head_ == out_.size()) {
    out_head_ = 0;
    // An idle connection keeps no queue storage (most of a million connections are idle);
    // a live one that writes a frame or two at a time keeps its small queue.
    if (out_.capacity() > 2)
      std::vector<Frame>().swap(out_);
    else
      out_.clear();
  } else if (out_head_ > 256 && out_head_ * 2 > out_.size()) {
    out_.erase(out_.begin(), out_.begin() + static_cast<long>(out_head_));
    out_head_ = 0;
  }
}

void WsSession::on_written(boost::system::error_code ec) {
  writing_ = false;
  release_written(in_flight_);
  in_flight_ = 0;
  if (ec) {
    close_socket();
    return;
  }
  write_next();
}

void WsSession::close(uint16_t code, const char* reason) {
  if (closing_ || !socket_.is_open()) return;
  metrics::close_code(code);
  // 1011 is this server's failure; the others are the protocol at work (counted in /metrics).
  log_ids(code == 1011 ? spdlog::level::warn : spdlog::level::debug, LogIds().user(user_.id),
          "comet: closing connection {} with {} ({})", id_, code, reason);
  closing_ = true;
  close_started_ = Clock::now();
  drop_unsent();
  send_control(make_close_frame(code, reason));
}

// Drops queued output, but not the frames being written.
void WsSession::drop_unsent() {
  for (std::size_t i = out_head_ + in_flight_; i < out_.size(); ++i) out_bytes_ -= out_[i]->size();
  out_.resize(out_head_ + in_flight_);
  pending_pong_.reset();
}

void WsSession::close_socket() {
  if (!socket_.is_open()) return;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);  // cancels the pending read wait: run() then unregisters
}

void WsSession::tick(Clock::time_point now) {
  if (closing_) {
    if (now - close_started_ > kCloseTimeout) close_socket();  // the peer never answered
    return;
  }
  const auto& limits = comet_.config().limits;
  if (now - last_heard_ > std::chrono::milliseconds(limits.idle_timeout_ms)) {
    close(1001, "silence timeout");
    return;
  }
  if (now - last_ping_ >= std::chrono::milliseconds(limits.ping_interval_ms)) {
    last_ping_ = now;
    send_control(kPingFrame);
  }
}

}  // namespace roomcast
