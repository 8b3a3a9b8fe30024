// Presence across comets (distributed mode). Each comet reports only its own users, in two
// hashes of its own that expire unless its task refreshes them:
//   rc:presence:rooms:<comet>  room id -> members online on that comet (in their grace too)
//   rc:presence:users:<comet>  user id -> that comet's connections of the user (0: in grace)
//   rc:presence:comets         the comets that report, scored with their last report (ms)
// A room's count is the sum over the comets, read once per window for the rooms with members
// here: no per-event write fans in on one key. A comet that dies stops refreshing: its hashes
// expire after the registry TTL, and readers keep its last counts for the grace after it fell
// silent, so its users go offline within TTL + grace. A comet frozen past the TTL finds
// its hashes gone when it wakes and re-announces everything at once, before that.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "comet/presence_tracker.h"
#include "comet/remote_room_counts.h"
#include "common/periodic_task.h"
#include "common/presence_events.h"
#include "discovery/holdings_outbox.h"
#include "store/redis_client.h"

namespace roomcast {

class ClusterPresence final : public RemoteRoomCounts {
 public:
  ClusterPresence(RedisClient& redis, std::string comet_id, PresenceTracker& tracker,
                  std::chrono::milliseconds period, std::chrono::milliseconds ttl,
                  std::chrono::milliseconds grace);
  ~ClusterPresence() override;
  // Before start(): the report's users also go to the presence topic (through Logic), once
  // per period from one grace after start() on, on a thread of their own: a slow Logic never
  // delays the report that keeps this comet alive in Redis.
  // Main thread: set_outbox() before start(), start() and stop() once each.
  void set_outbox(HoldingsOutbox* outbox) { outbox_ = outbox; }
  void start();
  // Stops reporting. The hashes are left to expire: a draining comet's users stay online
  // while they reconnect elsewhere.
  void stop();
  // RemoteRoomCounts: one pipelined read of the reporting comets' counts of the rooms new
  // here. Best effort: a failed read leaves them to the next period. Blocking pool.
  void read_missing(const std::vector<std::string>& room_ids) override;

 private:
  void step();
  void report();
  void read_remote();
  std::vector<std::string> other_comets() const;  // reporting within the TTL, not this one
  void flush_outbox();

  struct Remote {
    std::unordered_map<std::string, int64_t> rooms;  // last counts read
    std::chrono::steady_clock::time_point seen{};
  };

  RedisClient& redis_;
  std::string comet_id_;
  PresenceTracker& tracker_;
  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds grace_;
  bool full_ = true;  // the next report re-announces everything (task thread only)
  HoldingsOutbox* outbox_ = nullptr;
  bool outbox_failing_ = false;  // the last flush failed (outbox thread only)
  std::chrono::steady_clock::time_point outbox_from_{};  // no batch before (set by start())
  std::atomic<bool> resync_{false};  // Logic asked for everything: the next report is full
  std::unordered_map<std::string, Remote> remotes_;  // task thread only
  PeriodicTask task_;
  PeriodicTask outbox_task_;
};

// The admin presence API in the distributed mode: sums over the reporting comets.
// Comets that did not report within `ttl` are left out.
UserPresence cluster_user_presence(RedisClient& redis, std::chrono::milliseconds ttl,
                                   int64_t user_id);
int64_t cluster_room_online(RedisClient& redis, std::chrono::milliseconds ttl,
                            const std::string& room_id);
// Per user id: online on some comet (connected or in its grace), as last reported.
std::vector<bool> cluster_users_online(RedisClient& redis, std::chrono::milliseconds ttl,
                                       const std::vector<int64_t>& user_ids);

}  // namespace roomcast
