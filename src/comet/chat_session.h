// The chat protocol of one WebSocket connection (docs/protocol.md): authenticates, sends
// `hello`, then serves client events in order (one at a time, so a connection's messages keep
// their send order), follows the user's membership changes and delivers pushes, each room's
// stream kept gap-free and without repeats by its RoomDelivery. It speaks through its
// transport, a WsConnection it owns as a member (one allocation per connection), and is that
// connection's WsHandler.
//
// Lives on one I/O loop: every method is called on that loop only (asserted where it is not
// on the delivery path), as each one states. The files: chat_session.cc (opening, membership,
// closing), chat_requests.cc (client events), chat_presence.cc (typing, read state, members),
// chat_delivery.cc (live delivery and gap fills).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

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
#include "comet/ws_connection.h"
#include "comet/ws_handler.h"
#include "common/flat_map.h"
#include "common/trace_id.h"

namespace roomcast {

class ChatSession final : public WsHandler {
 public:
  using Clock = WsConnection::Clock;
  // `leftover`: bytes the HTTP reader had already read past the upgrade request. Constructed on
  // `shard`'s loop, with make_shared (the connection keeps the session alive through it).
  ChatSession(Comet& comet, CometShard& shard, asio::ip::tcp::socket socket, std::string leftover);

  // Loop only. Answers the upgrade and serves the connection; once.
  void start(Request request);
  // Loop only, before start(). Keeps `token` (the client address's connection slot) until this
  // session is destroyed.
  void hold(std::shared_ptr<const void> token) { conn_.hold(std::move(token)); }
  // Any thread may use the result (to post a close to the loop): locking it is thread-safe.
  std::weak_ptr<ChatSession> weak_self() { return self(); }

  // The delivery path (Comet::drain, which asserts its loop once per drain): loop only, and
  // no per-call assertion, virtual call or lock. Frames are complete and shared.
  void deliver_room_messages(const std::shared_ptr<const RoomMessages>& batch, const Frame& frame);
  void send(Frame frame) { conn_.send(std::move(frame)); }
  void send_many(const std::vector<Frame>& frames) { conn_.send_many(frames); }
  // See WsConnection::cork(): the comet's drain corks every session it delivers to.
  bool cork() { return conn_.cork(); }
  void uncork() { conn_.uncork(); }
  bool corked() const { return conn_.corked(); }
  // A presence, typing or read-state event about a room: sent only once this connection has
  // shown the room (its page is out), so it never comes before hello.
  void deliver_notice(const std::string& room_id, const Frame& frame);
  // Loop only (the shard's sweep timer): pings, silence timeout, closing-handshake timeout.
  void tick(Clock::time_point now) { conn_.tick(now); }

  // Loop only (asserted). The comet may have missed pushes: every room reads what follows its
  // last id from the store (or the connection closes with 4010).
  void check_tails();
  // Loop only (asserted). Starts the closing handshake with `code` unless already closing;
  // queued output is dropped. `reason` must outlive the call only.
  void close(uint16_t code, const char* reason);
  // Loop only. The connection no longer sends (closing or closed).
  bool closing() const { return !conn_.open(); }
  // Loop only (asserted). This user joined or left a room through another connection: this one
  // follows (serverJoinedRoom with the room's page, or serverLeftRoom).
  void follow_membership(const MembershipChange& change);
  // Loop only; constant once the session is registered with the comet.
  const User& user() const { return user_; }
  // Any thread: constant.
  uint64_t connection_id() const { return id_; }

 private:
  // Where the session is in the protocol; the transport has its own state.
  enum class Phase : uint8_t {
    kAuthenticating,  // the upgrade request is being checked
    kGreeting,        // registered with the comet; hello is not out yet
    kReady,           // hello is out: events are served, membership changes followed
    kGone,            // unregistered (the connection is over)
  };
  std::shared_ptr<ChatSession> self() {
    return std::static_pointer_cast<ChatSession>(shared_from_this());
  }
  bool registered() const { return phase_ == Phase::kGreeting || phase_ == Phase::kReady; }
  // Serves events and pushes: registered and not closing.
  bool serving() const { return conn_.open() && registered(); }

  // WsHandler.
  boost::asio::awaitable<bool> on_open(const Request& request) override;
  boost::asio::awaitable<void> on_text(const std::string& message) override;
  void on_closing(uint16_t code, const char* reason, bool by_peer) override;
  void on_closed() override;

  boost::asio::awaitable<void> authenticate_and_greet(const Request& request);
  // `trace`: the trace id of a clientMessages event (common/trace_id.h); zero for the others.
  boost::asio::awaitable<void> handle(ClientEvent& ev, TraceId trace);
  boost::asio::awaitable<void> post_messages(ClientEvent& ev, TraceId trace);
  boost::asio::awaitable<void> history(ClientEvent& ev);
  boost::asio::awaitable<void> create_room(ClientEvent& ev);
  boost::asio::awaitable<void> join_room(ClientEvent& ev);
  boost::asio::awaitable<void> leave_room(ClientEvent& ev);
  boost::asio::awaitable<void> resume(ClientEvent& ev);
  boost::asio::awaitable<void> resume_room(const ResumeRoom& entry);
  // Presence requests (chat_presence.cc).
  boost::asio::awaitable<void> typing(ClientEvent& ev);
  boost::asio::awaitable<void> mark_read(ClientEvent& ev);
  boost::asio::awaitable<void> room_members(ClientEvent& ev);
  // Turns the read positions of freshly read latest pages (`last_read_seq`, when
  // `positions_read`) into their read state (on the blocking pool), and fills their online
  // counts (on the loop, just before they are sent).
  void add_read_state(std::vector<RoomPage>& pages, bool positions_read) const;
  void add_online_counts(std::vector<RoomPage>& pages) const;
  boost::asio::awaitable<void> open_rooms(std::vector<RoomInfo> rooms, bool hello,
                                          bool joined_event);
  boost::asio::awaitable<void> follow_join(std::string room_id);
  void follow_leave(const std::string& room_id);
  // Forgets a room and its subscription; false when this connection was not in it.
  bool drop_room(const std::string& room_id);
  // Live delivery (chat_delivery.cc).
  void mark_ready(const std::string& room_id, const RoomPage& page);
  void perform(const std::string& room_id, const RoomDelivery::Step& step);
  void send_batch(const RoomMessages& batch, const Frame& frame);
  void replay(const std::string& room_id, std::vector<RoomDelivery::Replay> steps);
  boost::asio::awaitable<void> fill_gap(std::string room_id, RoomDelivery::Step step);
  void send_text(std::string_view json) { send(make_text_frame(json)); }
  void send_error(const std::string& code, const std::string& message, const std::string& type,
                  int64_t retry_after_ms = 0);
  void charge(const ClientEvent& ev);
  void unregister();

  Comet& comet_;
  CometShard& shard_;
  const uint64_t id_;  // names this connection to Logic, so its own changes are not echoed
  User user_;
  std::vector<MembershipChange> early_;  // membership changes that came before hello
  FlatMap<std::string, RoomDelivery> rooms_;
  TokenBucket message_bucket_;  // messages (counted in messages)
  TokenBucket request_bucket_;  // every other request
  // The transport, then the phase: [[no_unique_address]] lets the phase take a byte of the
  // connection's tail padding instead of a word of its own (memory per idle connection).
  [[no_unique_address]] WsConnection conn_;
  Phase phase_ = Phase::kAuthenticating;
};

}  // namespace roomcast
