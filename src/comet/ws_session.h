// One WebSocket connection: authenticates, sends `hello`, then serves client events in order
// (one at a time, so a connection's messages keep their send order) while pushes are queued
// for writing. Lives on one I/O loop; every member is touched only from that loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "comet/client_events.h"
#include "comet/comet.h"

namespace roomcast {

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  using Clock = std::chrono::steady_clock;
  WsSession(Comet& comet, CometShard& shard, boost::beast::tcp_stream stream);

  void start(boost::beast::http::request<boost::beast::http::string_body> request);

  // Pushes, called on this session's loop.
  void deliver_room_messages(const std::shared_ptr<const RoomMessages>& batch);
  void send(std::shared_ptr<const std::string> event);
  // Closes with `code` unless already closing; pending output is dropped.
  void close(uint16_t code, const char* reason);
  // Called by the shard's sweep timer: pings and silence timeout.
  void tick(Clock::time_point now);

 private:
  // Per-room delivery state: what this connection has shown of the room.
  struct RoomState {
    uint64_t last_seq = 0;      // highest id sent (page or live); live ids ≤ this are dropped
    uint64_t page_oldest = 1;   // oldest id of the first page sent (hello / joined)
    bool ready = false;         // the page is out; until then live batches wait in `pending`
    std::vector<std::shared_ptr<const RoomMessages>> pending;
  };

  boost::asio::awaitable<void> run(
      boost::beast::http::request<boost::beast::http::string_body> request);
  boost::asio::awaitable<void> serve(const std::string& frame);
  boost::asio::awaitable<void> handle(ClientEvent& ev);
  boost::asio::awaitable<void> post_messages(ClientEvent& ev);
  boost::asio::awaitable<void> history(ClientEvent& ev);
  boost::asio::awaitable<void> create_room(ClientEvent& ev);
  boost::asio::awaitable<void> join_room(ClientEvent& ev);
  boost::asio::awaitable<void> leave_room(ClientEvent& ev);
  boost::asio::awaitable<void> resume(ClientEvent& ev);
  boost::asio::awaitable<void> resume_room(const ResumeRoom& entry);
  boost::asio::awaitable<void> open_rooms(std::vector<RoomInfo> rooms, bool hello,
                                          bool joined_event);
  void mark_ready(const std::string& room_id, const RoomPage& page);
  void send_text(std::string text) { send(std::make_shared<const std::string>(std::move(text))); }
  void send_error(const std::string& code, const std::string& message, const std::string& type);
  void write_next();
  bool take_tokens(double n);
  void unregister();

  Comet& comet_;
  CometShard& shard_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  User user_;
  bool registered_ = false;
  std::unordered_map<std::string, RoomState> rooms_;

  std::deque<std::shared_ptr<const std::string>> out_;
  std::size_t out_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool control_busy_ = false;  // a ping or close is in flight (Beast allows one at a time)

  Clock::time_point last_heard_;
  Clock::time_point last_ping_;
  double tokens_ = 0;
  Clock::time_point tokens_at_;
};

}  // namespace roomcast
