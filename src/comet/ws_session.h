// One WebSocket connection: authenticates, sends `hello`, then serves client events in order
// (one at a time, so a connection's messages keep their send order) while pushes are queued
// for writing. Lives on one I/O loop; every member is touched only from that loop.
//
// The transport is roomcast's own (ws_codec.h) on the raw socket: an idle connection holds no
// read buffer (reads go through the loop's scratch buffer), and every frame queued while a
// write is in flight goes out in the next single gathered write.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/container/small_vector.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "comet/client_events.h"
#include "comet/comet.h"
#include "comet/room_delivery.h"
#include "comet/token_bucket.h"
#include "comet/ws_codec.h"
#include "common/flat_map.h"
#include "common/trace_id.h"

namespace roomcast {

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  using Clock = std::chrono::steady_clock;
  // `leftover`: bytes the HTTP reader had already read past the upgrade request.
  WsSession(Comet& comet, CometShard& shard, asio::ip::tcp::socket socket, std::string leftover);

  void start(boost::beast::http::request<boost::beast::http::string_body> request);
  // Keeps `token` (the client address's connection slot) until this session is destroyed.
  // Call before start(), on the session's loop.
  void hold(std::shared_ptr<const void> token) { held_ = std::move(token); }

  // Pushes, called on this session's loop. Frames are complete and shared.
  void deliver_room_messages(const std::shared_ptr<const RoomMessages>& batch, const Frame& frame);
  // The comet may have missed pushes: every room reads what follows its last id from the
  // store (or the connection closes with 4010). Called on the loop.
  void check_tails();
  void send(Frame frame);
  // Queues all, then writes them together (one gathered write when the socket allows).
  void send_many(const std::vector<Frame>& frames);
  // While corked, queued frames wait; uncork() writes them in one gathered write. cork()
  // returns false when the session was corked already.
  bool cork() { return !std::exchange(corked_, true); }
  void uncork();
  // Starts the closing handshake with `code` unless already closing; queued output is dropped.
  void close(uint16_t code, const char* reason);
  bool closing() const { return closing_; }
  // Called by the shard's sweep timer: pings, silence timeout, closing-handshake timeout.
  void tick(Clock::time_point now);
  // This user joined or left a room through another connection: this one follows
  // (serverJoinedRoom with the room's page, or serverLeftRoom). Called on the loop.
  void follow_membership(const MembershipChange& change);
  // A presence, typing or read-state event about a room: sent only once this connection has
  // shown the room (its page is out), so it never comes before hello. Called on the loop.
  void deliver_notice(const std::string& room_id, const Frame& frame);
  const User& user() const { return user_; }
  uint64_t connection_id() const { return id_; }

 private:
  boost::asio::awaitable<void> run(
      boost::beast::http::request<boost::beast::http::string_body> request);
  boost::asio::awaitable<bool> handshake(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  boost::asio::awaitable<void> authenticate_and_greet(
      const boost::beast::http::request<boost::beast::http::string_body>& request);
  // Reads what the socket has and parses it; false when the connection is over.
  bool read_available(std::vector<WsFrameParser::Event>& events);
  // The idle path: a handler (not a coroutine) waits for data; events are served by a
  // coroutine that lives only while it serves them.
  void wait_readable();
  void on_readable(boost::system::error_code ec);
  boost::asio::awaitable<void> serve_all(std::vector<WsFrameParser::Event>& events);
  void finish();  // the connection is over: close and unregister
  bool consume(std::string_view data, std::vector<WsFrameParser::Event>& events);
  boost::asio::awaitable<void> serve(const std::string& frame);
  // `trace`: the trace id of a clientMessages event (common/trace_id.h); zero for the others.
  boost::asio::awaitable<void> handle(ClientEvent& ev, TraceId trace);
  boost::asio::awaitable<void> post_messages(ClientEvent& ev, TraceId trace);
  boost::asio::awaitable<void> history(ClientEvent& ev);
  boost::asio::awaitable<void> create_room(ClientEvent& ev);
  boost::asio::awaitable<void> join_room(ClientEvent& ev);
  boost::asio::awaitable<void> leave_room(ClientEvent& ev);
  boost::asio::awaitable<void> resume(ClientEvent& ev);
  boost::asio::awaitable<void> resume_room(const ResumeRoom& entry);
  // Presence requests (ws_presence.cc).
  boost::asio::awaitable<void> typing(ClientEvent& ev);
  boost::asio::awaitable<void> mark_read(ClientEvent& ev);
  boost::asio::awaitable<void> room_members(ClientEvent& ev);
  // Fills the read state of freshly read pages (on the blocking pool) and their online counts
  // (on the loop, just before they are sent).
  void add_read_state(std::vector<RoomPage>& pages) const;
  void add_online_counts(std::vector<RoomPage>& pages) const;
  boost::asio::awaitable<void> open_rooms(std::vector<RoomInfo> rooms, bool hello,
                                          bool joined_event);
  boost::asio::awaitable<void> follow_join(std::string room_id);
  void follow_leave(const std::string& room_id);
  // Forgets a room and its subscription; false when this connection was not in it.
  bool drop_room(const std::string& room_id);
  // Live delivery (ws_session_delivery.cc).
  void mark_ready(const std::string& room_id, const RoomPage& page);
  void perform(const std::string& room_id, const RoomDelivery::Step& step);
  void replay(const std::string& room_id, std::vector<RoomDelivery::Held> held);
  boost::asio::awaitable<void> fill_gap(std::string room_id, RoomDelivery::Step step);
  void send_text(std::string_view json) { send(make_text_frame(json)); }
  void send_error(const std::string& code, const std::string& message, const std::string& type,
                  int64_t retry_after_ms = 0);
  void send_control(Frame frame);
  // Whether `events` frames of `bytes` may join the outbound queue (the slow-consumer limits).
  bool fits_outbound(std::size_t events, std::size_t bytes) const;
  void send_pong(std::string_view payload);
  void write_next();
  void on_written(boost::system::error_code ec);
  void release_written(std::size_t frames);
  void close_socket();
  void drop_unsent();
  void charge(const ClientEvent& ev);
  void unregister();

  Comet& comet_;
  CometShard& shard_;
  const uint64_t id_;  // names this connection to Logic, so its own changes are not echoed
  asio::ip::tcp::socket socket_;
  std::string in_;  // bytes of a partial frame (usually empty)
  WsFrameParser parser_;
  User user_;
  bool registered_ = false;
  bool greeted_ = false;  // hello is out; membership changes before it wait in `early_`
  std::vector<MembershipChange> early_;
  FlatMap<std::string, RoomDelivery> rooms_;

  // Queued frames; [out_head_, out_head_ + in_flight_) are being written asynchronously.
  std::vector<Frame> out_;
  std::size_t out_head_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t out_bytes_ = 0;
  boost::container::small_vector<asio::const_buffer, 2> write_buffers_;
  bool writing_ = false;
  bool corked_ = false;
  bool closing_ = false;            // our close frame is queued or sent (or the peer's answered)
  bool close_after_write_ = false;  // the peer closed: drop TCP once our answer is out
  Frame pending_pong_;              // the queued, unsent pong (at most one)

  Clock::time_point last_heard_;
  Clock::time_point last_ping_;
  Clock::time_point close_started_;
  TokenBucket message_bucket_;        // messages (counted in messages)
  TokenBucket request_bucket_;        // every other request
  std::shared_ptr<const void> held_;  // released when the session ends
};

}  // namespace roomcast
