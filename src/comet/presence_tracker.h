// Who is online, per user and per room, on this comet (docs/protocol.md "Presence, typing and read
// state"). A user is online while it has a connection and for `grace_ms` after its last one
// closed, so a page reload changes nothing. A room's count is the number of distinct members
// online in it; membership is what the connections subscribed to.
//
// Changes are coalesced per room: a room with changes waits in a due list and is sent at most
// once per `window_ms` (counts only, at most once per `large_window_ms`, in rooms with more than
// `room_limit` members). One timer serves every room and every grace, and each event is built
// once and shared by all recipients, so the cost of a change does not grow with the room's size.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "comet/remote_presence.h"
#include "common/config.h"
#include "common/flat_map.h"
#include "domain/user.h"

namespace roomcast {

namespace asio = boost::asio;

class PresenceTracker {
 public:
  using Clock = std::chrono::steady_clock;
  // Delivers a serverPresence event to the room's connections. Called on the timer's loop.
  using RoomSink = std::function<void(const std::string& room_id, std::string event)>;
  // The room's member count (blocking; run on the blocking pool). Unset: the online count.
  using MemberCounter = std::function<int64_t(const std::string& room_id)>;
  // The members who came online / went offline on this comet, per room event, for the other
  // comets (distributed mode). Called on the timer's loop.
  using ChangeSink = std::function<void(const std::string& room_id, std::vector<User> joined,
                                        std::vector<User> left)>;

  PresenceTracker(asio::io_context& timer_loop, asio::thread_pool& blocking,
                  const PresenceSettings& settings, RoomSink sink);
  ~PresenceTracker();

  // Set before serving.
  void set_member_counter(MemberCounter counter) { count_members_ = std::move(counter); }
  void set_change_sink(ChangeSink sink) { change_sink_ = std::move(sink); }
  // Starts and stops the timer; stop() may be called from any thread.
  void start();
  void stop();

  // Connection and subscription changes; any thread. `closing`: the connection closed (its
  // rooms keep the user for the grace), else the user left the room (gone at once).
  void connected(const User& user);
  void disconnected(int64_t user_id);
  void entered(const User& user, const std::string& room_id);
  void exited(int64_t user_id, const std::string& room_id, bool closing);

  // Queries; any thread. room_online includes the members online on other comets.
  int64_t room_online(const std::string& room_id) const;
  struct UserState {
    bool online = false;
    int64_t connections = 0;
  };
  UserState user_state(int64_t user_id) const;
  // For the metrics: users online here (connected or in their grace), rooms with one online.
  struct Totals {
    int64_t users = 0;
    int64_t rooms = 0;
  };
  Totals totals() const;

  // The distributed mode (ClusterPresence); any thread. What changed locally since the last
  // call (all of it when `full`): rooms with their local online count (0: none left here),
  // users with their local connections (-1: offline here).
  struct Report {
    std::vector<std::pair<std::string, int64_t>> rooms;
    std::vector<std::pair<int64_t, int64_t>> users;
  };
  Report take_report(bool full);
  // Rooms with members online here: the ones whose cluster-wide count this comet needs.
  std::vector<std::string> local_rooms() const;
  // Members online in the room on other comets; a change is sent like a local one.
  void set_remote_online(const std::string& room_id, int64_t online);
  // Of `room_ids`, the rooms entered here whose remote count was never set. Any thread.
  std::vector<std::string> rooms_without_remote_count(
      const std::vector<std::string>& room_ids) const;
  // The first remote count of a room (RemoteRoomCounts), read when it was entered here;
  // ignored once the periodic read set one. Any thread.
  void set_first_remote_online(const std::string& room_id, int64_t online);
  // Named changes relayed by comet `origin` (distributed mode; presence_remote.cc), merged into
  // the room's next event: a user already online here or on a third comet is not named again.
  // Rooms past room_limit stay counts only. Any thread.
  void merge_remote(const std::string& room_id, const std::string& origin,
                    const std::vector<User>& joined, const std::vector<User>& left);
  // `origin` was swept (dead): its users that no other comet has go offline by name. Any thread.
  void forget_comet(const std::string& origin);

 private:
  struct RoomLink {
    int sessions = 0;       // this user's connections subscribed to the room
    bool in_grace = false;  // sessions == 0, still counted until the grace ends
    Clock::time_point grace_until{};
  };
  struct UserEntry {
    User user;
    int64_t connections = 0;
    Clock::time_point grace_until{};
    FlatMap<std::string, RoomLink> rooms;  // a few per user: no node per room (issue #15)
  };
  using Changes = std::unordered_map<int64_t, std::pair<User, int>>;  // user -> (user, +1/-1)
  struct RoomEntry {
    int64_t online = 0;         // on this comet
    int64_t remote_online = 0;  // on the other comets (distributed mode)
    bool remote_known = false;  // remote_online was set at least once
    int64_t members = -1;       // unknown until counted
    Clock::time_point counted_at{};
    bool counting = false;
    // Users whose state changed since the last event: +1 came online, -1 went offline.
    Changes changes;
    // The same, on this comet only, for the other comets (with a change sink).
    Changes local_changes;
    int64_t sent_online = 0;
    Clock::time_point next_send{};
    Clock::time_point due_since{};
    bool due = false;
  };
  struct Outgoing {
    std::string room_id;
    std::string event;               // empty: none
    std::vector<User> joined, left;  // for the change sink
  };

  void schedule();
  void on_tick();
  // Helpers below run under mutex_.
  void went_online(const User& user, const std::string& room_id);
  void went_offline(const User& user, const std::string& room_id);
  void mark_due(const std::string& room_id, RoomEntry& room);
  // Sets a room's remote count (with mutex_ held); `first_only`: only if none was set yet.
  void apply_remote_online(const std::string& room_id, int64_t online, bool first_only);
  void expire_graces(Clock::time_point now);
  void collect_due(Clock::time_point now, std::vector<Outgoing>& out);
  bool build_event(const std::string& room_id, RoomEntry& room, Clock::time_point now,
                   std::string& event);
  void count_members(const std::string& room_id);
  // Adds a transition; opposite ones within one window cancel out.
  static void note_change(Changes& changes, const User& user, int delta);
  bool is_large(const RoomEntry& room) const;
  bool online_here(int64_t user_id, const std::string& room_id);
  void take_local_changes(RoomEntry& room, Outgoing& out) const;

  asio::steady_timer timer_;
  asio::thread_pool& blocking_;
  const PresenceSettings& settings_;
  RoomSink sink_;
  MemberCounter count_members_;
  ChangeSink change_sink_;
  bool stopped_ = false;

  mutable std::mutex mutex_;
  std::unordered_map<int64_t, UserEntry> users_;
  std::unordered_map<std::string, RoomEntry> rooms_;
  // Grace ends: (user, room) for a room link, (user, "") for the user itself.
  std::multimap<Clock::time_point, std::pair<int64_t, std::string>> graces_;
  std::vector<std::string> due_;  // rooms with unsent changes
  RemotePresence remote_;         // named users online on other comets
  // Changed since the last report (distributed mode).
  std::unordered_set<std::string> report_rooms_;
  std::unordered_set<int64_t> report_users_;
};

}  // namespace roomcast
