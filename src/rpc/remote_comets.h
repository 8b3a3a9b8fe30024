// RemoteComets: Job's CometPush in the distributed mode, a client of the comets' gRPC Comet
// service (rpc/comet_service.h). Pushes go to exactly the comets that hold the target users or
// room members (routes in Redis, live comets from the registry).
// Pushes are queued and sent by one flusher thread, which lingers at most job_batch_window_ms and
// only until a flush() says Job's batch is complete: everything bound for one comet in a round
// travels in one RPC, consecutive batches of a room are merged, and
// flush() (called by Job before its offsets are committed) waits until they are delivered, so
// a Job that dies mid-way leaves nothing undelivered that the queue would not redeliver.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "comet/comet_push.h"
#include "discovery/node_directory.h"
#include "discovery/route_lookup.h"
#include "domain/push_kind.h"
#include "rpc/channel_pool.h"
#include "store/redis_client.h"

namespace roomcast {

class RemoteComets final : public CometPush {
 public:
  // `comets` and `routes` are used by the flusher thread only.
  RemoteComets(RedisClient& redis, NodeDirectory& comets, RouteLookup& routes,
               ChannelPool& channels, int window_ms);
  ~RemoteComets() override;

  void start();
  void stop();  // delivers what is queued, then stops the flusher

  void push_room_messages(std::shared_ptr<const RoomMessages> batch) override;
  void push_room_event(const std::string& room_id,
                       std::shared_ptr<const std::string> event) override;
  void push_users_event(const std::vector<int64_t>& user_ids,
                        std::shared_ptr<const std::string> event) override;
  void broadcast_event(std::shared_ptr<const std::string> event) override;
  void sync_membership(const MembershipChange& change) override;
  void relay_notice(std::shared_ptr<const RelayedNotice> notice) override;
  void flush() override;

 private:
  struct Item {
    PushKind kind;
    std::shared_ptr<const RoomMessages> batch;    // kChat
    std::string room_id;                          // kRoom
    std::vector<int64_t> user_ids;                // kUsers, kMembership
    std::shared_ptr<const std::string> event;     // kRoom, kBroadcast, kUsers
    std::optional<MembershipChange> membership;   // kMembership
    std::shared_ptr<const RelayedNotice> notice;  // kRoomNotice, kUserNotice
  };
  void enqueue(Item item);
  void run();
  // One round: plan (merge batches, collect targets), read routes, pick live comets, build one
  // call per comet and kind, send with retries. Flusher thread only.
  struct Plan;
  void deliver(std::vector<Item> items);
  bool read_routes(Plan& plan, std::size_t items);
  void resolve_comets(Plan& plan);
  void add_calls(Plan& plan, const std::vector<Item>& items);
  void send_with_retries(Plan& plan);
  static void add_users_calls(Plan& plan, const std::vector<int64_t>& user_ids,
                              const std::shared_ptr<const std::string>& event,
                              const std::optional<MembershipChange>& membership);
  // The calls of a relayed notice: to the comets holding its room or users, but its origin.
  static void add_notice_calls(Plan& plan, const RelayedNotice& notice);
  // A push to `comet_id` failed for good: makes sure that comet detects what it missed.
  void give_up(const std::string& comet_id);

  RedisClient& redis_;
  NodeDirectory& comets_;
  ChannelPool& channels_;
  RouteLookup& routes_;
  int window_ms_;
  std::chrono::steady_clock::time_point forced_refresh_at_{};  // flusher thread only

  std::mutex mutex_;
  std::condition_variable wake_;  // flusher: items queued or stopping
  std::condition_variable done_;  // flush(): a round finished
  std::deque<Item> queue_;
  uint64_t enqueued_ = 0;   // items ever queued
  uint64_t delivered_ = 0;  // items whose round finished (delivered or given up)
  int flushing_ = 0;        // flush() calls waiting: the flusher does not linger
  bool stopping_ = false;
  bool running_ = false;  // the flusher runs (flush() must not wait on a stopped one)
  std::thread thread_;
};

}  // namespace roomcast
