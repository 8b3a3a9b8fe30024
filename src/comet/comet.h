// The gateway layer: holds WebSocket connections and their room subscriptions, and delivers
// pushes to them. Subscriptions are sharded by I/O loop: each loop owns the table of its own
// connections, so a push is one hand-off per loop and never takes a global lock.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "comet/cluster_connections.h"
#include "comet/comet_push.h"
#include "comet/notice_relay.h"
#include "comet/presence_tracker.h"
#include "comet/read_state_fanout.h"
#include "comet/remote_room_counts.h"
#include "comet/shard_push.h"
#include "comet/typing_throttle.h"
#include "comet/user_connections.h"
#include "comet/write_rounds.h"
#include "comet/ws_loop_context.h"
#include "common/config.h"
#include "logic/logic_api.h"
#include "logic/presence_api.h"
#include "net/io_pool.h"
#include "net/websocket_acceptor.h"

namespace roomcast {

class ChatSession;

// Tells the routing layer (distributed mode) where users and rooms live. Both calls run on the
// blocking pool and must complete before returning: a room is registered before its first page
// is read, so a message persisted after that read is always routed to this comet. Idempotent.
class RouteListener {
 public:
  virtual ~RouteListener() = default;
  virtual void rooms_subscribed(const std::vector<std::string>& room_ids) = 0;
  virtual void user_connected(int64_t user_id) = 0;
};

// The connections of one I/O loop. Only touched from that loop.
struct CometShard {
  CometShard(asio::io_context& c, const Limits& limits)
      : ctx(c), sweep(c), tail_recheck(c), ws(limits) {}
  asio::io_context& ctx;
  asio::steady_timer sweep;         // pings and silence timeouts
  asio::steady_timer tail_recheck;  // the second pass of Comet::check_tails()
  std::unordered_map<std::string, std::vector<ChatSession*>> rooms;
  std::unordered_map<int64_t, std::vector<ChatSession*>> users;
  std::vector<ChatSession*> all;
  WsLoopContext ws;                 // the limits and the read buffer of this loop's connections
  PushInbox inbox;                  // pushes from other threads, delivered by drain()
  WriteRounds<ChatSession> writes;  // sessions fed by the drain, waiting for their turn
};

class Comet final : public CometPush, public WebSocketAcceptor {
 public:
  Comet(IoPool& loops, asio::thread_pool& blocking, LogicApi& logic, const Config& config);
  ~Comet() override;

  // WebSocketAcceptor: runs on the connection's loop.
  void accept(asio::io_context& loop, asio::ip::tcp::socket socket,
              boost::beast::http::request<boost::beast::http::string_body> request,
              std::string leftover, std::shared_ptr<const void> address_slot = nullptr) override;

  // CometPush: callable from any thread.
  void push_room_messages(std::shared_ptr<const RoomMessages> batch) override;
  void push_room_event(const std::string& room_id,
                       std::shared_ptr<const std::string> event) override;
  void push_room_events(const std::string& room_id,
                        const std::vector<std::shared_ptr<const std::string>>& events) override;
  void push_users_event(const std::vector<int64_t>& user_ids,
                        std::shared_ptr<const std::string> event) override;
  void broadcast_event(std::shared_ptr<const std::string> event) override;
  void sync_membership(const MembershipChange& change) override;

  // This comet may have missed pushes (it was out of the registry, so Job skipped it): every
  // connection reads what follows its last id in each room from the store, now and once more
  // after `recheck` (pushes skipped until every Job saw the comet back are covered too).
  // Callable from any thread.
  void check_tails(std::chrono::milliseconds recheck = std::chrono::seconds(3));

  // Closes every connection with 1001 (going away). Returns when all loops have done it; call
  // from outside the loops (asserted: on a loop it would wait for itself).
  void shutdown();
  // Closes every connection with 1012 "reconnect:<ms>", spread evenly over `window`, and returns
  // when none is left (or the window and the closing handshakes' timeout have passed). Call
  // from outside the loops once the listener stopped accepting (comet_drain.cc).
  void drain_connections(std::chrono::milliseconds window);

  std::size_t connection_count() const { return connections_.load(); }

  // Shard bookkeeping, called by sessions on their own loop (asserted: a call from another
  // thread stops the process, as muduo's assertInLoopThread does).
  CometShard& shard_of(asio::io_context& ctx) { return *shards_[loops_.index_of(ctx)]; }
  void add(CometShard& shard, ChatSession* s, int64_t user_id);
  void remove(CometShard& shard, ChatSession* s, int64_t user_id);
  void subscribe(CometShard& shard, ChatSession* s, const std::string& room);
  // `closing`: the connection is closing (presence keeps the user for the grace).
  void unsubscribe(CometShard& shard, ChatSession* s, const std::string& room,
                   bool closing = false);

  // Presence, typing and read-state events, framed once; any thread. To the room's connections
  // (except all of `except_user`'s), or to one user's connections except `except_conn`.
  void push_room_notice(const std::string& room_id, const std::string& event,
                        int64_t except_user = 0);
  void push_user_notice(int64_t user_id, const std::string& room_id, const std::string& event,
                        uint64_t except_conn);
  PresenceTracker& presence_tracker() { return *tracker_; }
  TypingThrottle& typing_throttle() { return typing_; }
  ReadStateFanout& read_states() { return *read_states_; }
  // Read state and member lists; set before serving (null: those requests answer INTERNAL).
  void set_presence_api(PresenceApi* api);
  PresenceApi* presence_api() const { return presence_api_; }
  // Which of the users are online on any comet (distributed mode: the other comets' reports),
  // for member lists. Blocks: called on the blocking pool. Optional; set before serving.
  using OnlineLookup = std::function<std::vector<bool>(const std::vector<int64_t>& user_ids)>;
  void set_cluster_online(OnlineLookup lookup) { cluster_online_ = std::move(lookup); }
  const OnlineLookup& cluster_online() const { return cluster_online_; }

  // Typing, read state and presence changes for the other comets (distributed mode); set before
  // serving. Standalone has none.
  void set_notice_relay(NoticeRelay* relay);
  NoticeRelay* notice_relay() const { return relay_; }

  // Optional; set before serving. Standalone has none.
  void set_route_listener(RouteListener* listener) { routes_ = listener; }
  RouteListener* routes() const { return routes_; }
  void set_cluster_connections(ClusterConnections* c) { cluster_connections_ = c; }
  ClusterConnections* cluster_connections() const { return cluster_connections_; }
  void set_remote_room_counts(RemoteRoomCounts* counts) { remote_room_counts_ = counts; }
  RemoteRoomCounts* remote_room_counts() const { return remote_room_counts_; }
  // Closes one of this comet's connections by id (no-op when it is gone). Thread-safe.
  void close_connection(uint64_t conn_id, uint16_t code, const char* reason);
  // Rooms with at least one local member and users with at least one local connection: the
  // routing entries this comet should hold (for periodic reconciliation). Thread-safe.
  std::vector<std::string> local_rooms() const;
  std::vector<int64_t> local_users() const;

  LogicApi& logic() { return logic_; }
  asio::thread_pool& blocking() { return blocking_; }
  const Config& config() const { return config_; }
  bool origin_allowed(std::string_view origin, std::string_view host) const;

 private:
  void schedule_sweep(CometShard& shard);
  // Closes a connection on its own loop; `reason` must be a string literal.
  void close_entry(const UserConnections::Entry& entry, uint16_t code, const char* reason);
  // Hands `push` to every loop; a loop with an empty inbox gets one drain posted.
  void enqueue(ShardPush push);
  // One round: delivers every push in the shard's inbox in order (queued on the sessions), then
  // writes the next kSessionsPerRound sessions waiting; posts itself again while work remains.
  void drain(CometShard& shard);
  void deliver_pushes(CometShard& shard, std::vector<ShardPush>& pushes);
  void deliver_notice(CometShard& shard, const ShardPush& push,
                      const std::function<ChatSession*(ChatSession*)>& cork);

  IoPool& loops_;
  asio::thread_pool& blocking_;
  LogicApi& logic_;
  const Config& config_;
  std::vector<std::unique_ptr<CometShard>> shards_;
  std::atomic<std::size_t> connections_{0};
  RouteListener* routes_ = nullptr;
  NoticeRelay* relay_ = nullptr;
  PresenceApi* presence_api_ = nullptr;
  OnlineLookup cluster_online_;
  std::unique_ptr<PresenceTracker> tracker_;
  std::unique_ptr<ReadStateFanout> read_states_;
  TypingThrottle typing_;
  // Comet-wide member counts (all shards), only for the routing snapshots: updated on
  // subscribe/unsubscribe, never on the push path.
  mutable std::mutex counts_mutex_;
  std::unordered_map<std::string, int> room_counts_;
  std::unordered_map<int64_t, int> user_counts_;
  UserConnections user_connections_;  // per-user limit (4008)
  ClusterConnections* cluster_connections_ = nullptr;
  RemoteRoomCounts* remote_room_counts_ = nullptr;
};

}  // namespace roomcast
