// One WebSocket connection as a transport: the upgrade answer, the frame codec (ws_codec.h) on
// the raw socket, the outbound queue and its gathered writes, corking, pings, the silence and
// closing-handshake timeouts, and closing with a code. It knows nothing of users or rooms: it
// hands each text message to its WsHandler (ws_handler.h), which owns it as a member.
//
// Memory is what an idle connection costs, so: an idle connection holds no read buffer (reads
// go through the loop's scratch buffer), no coroutine frame (it waits for data with a plain
// handler) and no queue storage; every frame queued while a write is in flight goes out in the
// next single gathered write.
//
// Lives on one I/O loop: every method is called on that loop only (by the handler, or by its
// owner through the handler).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/container/small_vector.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "comet/ws_codec.h"
#include "comet/ws_handler.h"
#include "comet/ws_loop_context.h"

namespace roomcast {

namespace asio = boost::asio;

class WsConnection {
 public:
  using Clock = std::chrono::steady_clock;
  using Request = WsHandler::Request;

  // The lifecycle, one step at a time (never back).
  enum class State : uint8_t {
    kHandshake,  // the upgrade request is being answered
    kOpen,       // frames flow both ways
    kClosing,    // our close frame is queued or sent; waiting for the peer's answer
    kDraining,   // the peer has closed: our answer goes out, then TCP is dropped
    kClosed,     // the socket is closed
  };

  // `leftover`: bytes the HTTP reader had already read past the upgrade request. `loop`: what
  // the connections of this loop share. `handler` owns this connection.
  WsConnection(WsHandler& handler, asio::ip::tcp::socket socket, std::string leftover,
               WsLoopContext& loop);

  // Answers the upgrade, then serves the connection until it is over. Once.
  void start(Request request);
  // Keeps `token` (the client address's connection slot) until the connection is destroyed.
  void hold(std::shared_ptr<const void> token) { held_ = std::move(token); }

  State state() const { return state_; }
  // Frames may be sent (not closing or closed).
  bool open() const { return state_ == State::kOpen; }

  // Queues a frame; past the outbound limits the connection closes with 1013 instead. The
  // delivery path: direct calls, no allocation but the queue's.
  void send(Frame frame);
  // Queues all, then writes them together (one gathered write when the socket allows).
  void send_many(const std::vector<Frame>& frames);
  // While corked, queued frames wait; uncork() writes them in one gathered write. cork()
  // returns false when the connection was corked already.
  bool cork() { return !std::exchange(corked_, true); }
  bool corked() const { return corked_; }
  void uncork();
  // Starts the closing handshake with `code` unless closing already; queued output is dropped.
  // `reason` must outlive the call only.
  void close(uint16_t code, const char* reason);
  // Pings, the silence timeout and the closing-handshake timeout, and frees the output queue's
  // storage of a quiet connection; called periodically once the handler accepted the connection.
  void tick(Clock::time_point now);

 private:
  boost::asio::awaitable<void> run(Request request);
  boost::asio::awaitable<bool> handshake(const Request& request);
  // A refused connection is not ticked: its closing handshake is bounded here.
  void bound_refusal();
  // The idle path: a handler (not a coroutine) waits for data; messages are served by a
  // coroutine that lives only while it serves them.
  void wait_readable();
  void on_readable(boost::system::error_code ec);
  boost::asio::awaitable<void> serve_all(std::vector<WsFrameParser::Event>& events);
  void finish();  // the connection is over: close the socket, tell the handler
  // Reads what the socket has and parses it; false when the connection is over.
  bool read_available(std::vector<WsFrameParser::Event>& events);
  bool consume(std::string_view data, std::vector<WsFrameParser::Event>& events);
  // Answers control frames; keeps text messages in `events`. False when the connection is over.
  bool answer_control(std::vector<WsFrameParser::Event>& events, std::size_t first);
  void parse_failed();
  // Announces and starts closing with `code`, going to `next` (kClosing or kDraining).
  void close_as(State next, uint16_t code, const char* reason);
  void begin_close(State next, Frame close_frame);

  // Whether `events` frames of `bytes` may join the outbound queue (the slow-consumer limits).
  bool fits_outbound(std::size_t events, std::size_t bytes) const;
  void send_control(Frame frame);  // queues regardless of the limits (pings, close frames)
  void send_pong(std::string_view payload);
  void write_next();
  void on_written(boost::system::error_code ec);
  void release_written(std::size_t frames);
  // Frees the output queue's storage when nothing waits (tick(): the connection went quiet).
  void release_idle_storage();
  void drop_unsent();
  void close_socket();

  WsHandler& handler_;
  WsLoopContext& loop_;
  asio::ip::tcp::socket socket_;
  std::string in_;  // bytes of a partial frame (usually empty)
  WsFrameParser parser_;

  // Queued frames; [out_head_, out_head_ + in_flight_) are being written asynchronously (a
  // write is in flight exactly when in_flight_ is not zero).
  std::vector<Frame> out_;
  uint32_t out_head_ = 0;  // (a queue never holds 4G frames: 1013 comes long before)
  uint32_t in_flight_ = 0;
  std::size_t out_bytes_ = 0;
  boost::container::small_vector<asio::const_buffer, 2> write_buffers_;
  Frame pending_pong_;  // the queued, unsent pong (at most one)

  Clock::time_point last_heard_;
  // kOpen: when the last ping went out; closing: when the closing handshake started.
  Clock::time_point last_ping_or_close_;
  std::shared_ptr<const void> held_;  // released when the connection is destroyed
  State state_ = State::kHandshake;   // the only lifecycle state
  // Not a lifecycle state but a write-batching switch, orthogonal to it: while a drain
  // delivers, frames wait, then leave in one gathered write (cork/uncork).
  bool corked_ = false;
};

}  // namespace roomcast
