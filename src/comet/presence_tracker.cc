#include "comet/presence_tracker.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>

#include "common/log_ids.h"
#include "common/presence_events.h"

namespace roomcast {
namespace {
// Fine enough for a one-second window; a tick with nothing due costs one lock.
constexpr auto kTick = std::chrono::milliseconds(50);
// How long a room with changes waits for its first member count before sending anyway.
constexpr auto kCountWait = std::chrono::milliseconds(1000);
}  // namespace

void PresenceTracker::note_change(Changes& changes, const User& user, int delta) {
  auto [change, fresh] = changes.try_emplace(user.id, user, delta);
  if (!fresh && change->second.second == -delta) changes.erase(change);  // back within a window
}

bool PresenceTracker::is_large(const RoomEntry& room) const {
  // A room has at least its online members: a count that lags behind a burst of joins (or
  // misses members every user has, as in default rooms) must not send thousands of names.
  int64_t members = std::max(room.members, room.online + room.remote_online);
  return members > settings_.room_limit;
}

PresenceTracker::PresenceTracker(asio::io_context& timer_loop, asio::thread_pool& blocking,
                                 const PresenceSettings& settings, RoomSink sink)
    : timer_(timer_loop), blocking_(blocking), settings_(settings), sink_(std::move(sink)) {}

PresenceTracker::~PresenceTracker() {
  timer_.cancel();
}

void PresenceTracker::start() {
  schedule();
}

void PresenceTracker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  asio::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

void PresenceTracker::schedule() {
  timer_.expires_after(kTick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    on_tick();
    std::lock_guard lock(mutex_);
    if (!stopped_) schedule();
  });
}

void PresenceTracker::connected(const User& user) {
  std::lock_guard lock(mutex_);
  auto& u = users_[user.id];
  u.user = user;
  ++u.connections;
  report_users_.insert(user.id);
}

void PresenceTracker::disconnected(int64_t user_id) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  if (it == users_.end() || it->second.connections == 0) return;
  report_users_.insert(user_id);
  if (--it->second.connections > 0) return;
  it->second.grace_until = Clock::now() + std::chrono::milliseconds(settings_.grace_ms);
  graces_.emplace(it->second.grace_until, std::pair{user_id, std::string()});
}

void PresenceTracker::entered(const User& user, const std::string& room_id) {
  std::lock_guard lock(mutex_);
  auto& u = users_[user.id];
  u.user = user;
  auto& link = u.rooms[room_id];
  bool counted = link.sessions > 0 || link.in_grace;
  ++link.sessions;
  link.in_grace = false;
  if (!counted) went_online(user, room_id);
}

void PresenceTracker::exited(int64_t user_id, const std::string& room_id, bool closing) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  if (it == users_.end()) return;
  auto link = it->second.rooms.find(room_id);
  if (link == it->second.rooms.end() || link->second.sessions == 0) return;
  if (--link->second.sessions > 0) return;
  if (closing) {
    link->second.in_grace = true;
    link->second.grace_until = Clock::now() + std::chrono::milliseconds(settings_.grace_ms);
    graces_.emplace(link->second.grace_until, std::pair{user_id, room_id});
    return;
  }
  it->second.rooms.erase(link);
  went_offline(it->second.user, room_id);
}

int64_t PresenceTracker::room_online(const std::string& room_id) const {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? 0 : it->second.online + it->second.remote_online;
}

PresenceTracker::Totals PresenceTracker::totals() const {
  std::lock_guard lock(mutex_);
  Totals t;
  t.users = static_cast<int64_t>(users_.size());
  for (auto& [id, room] : rooms_) t.rooms += room.online > 0 ? 1 : 0;
  return t;
}

PresenceTracker::UserState PresenceTracker::user_state(int64_t user_id) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  if (it == users_.end()) return {};
  auto& u = it->second;
  return {u.connections > 0 || Clock::now() < u.grace_until, u.connections};
}

void PresenceTracker::went_online(const User& user, const std::string& room_id) {
  auto& room = rooms_[room_id];
  ++room.online;
  report_rooms_.insert(room_id);
  if (change_sink_) note_change(room.local_changes, user, 1);
  // Online on another comet already: the members were told then. A large room's event carries
  // counts only, so its names are not kept (a 10,000-member room: 10,000 entries per window).
  if (!is_large(room) && !remote_.online_elsewhere(room_id, user.id))
    note_change(room.changes, user, 1);
  mark_due(room_id, room);
}

void PresenceTracker::went_offline(const User& user, const std::string& room_id) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  auto& room = it->second;
  --room.online;
  report_rooms_.insert(room_id);
  if (change_sink_) note_change(room.local_changes, user, -1);
  // Still online on another comet: not "left".
  if (!is_large(room) && !remote_.online_elsewhere(room_id, user.id))
    note_change(room.changes, user, -1);
  mark_due(room_id, room);
}

void PresenceTracker::mark_due(const std::string& room_id, RoomEntry& room) {
  if (room.due) return;
  auto now = Clock::now();
  room.due = true;
  room.due_since = now;
  // Trailing edge: the first change of a quiet room also waits one window, so a burst of
  // connects is one event, and a client that just connected sees its first replies before
  // any presence (servertech-chat's suite reads the answer to a message as the next event).
  room.next_send = std::max(room.next_send, now + std::chrono::milliseconds(settings_.window_ms));
  due_.push_back(room_id);
  // A stale member count is refreshed now; the send waits for it (briefly), so the choice
  // between names and counts only follows the room's size.
  bool stale = room.members < 0 ||
               now - room.counted_at > std::chrono::milliseconds(settings_.member_count_ttl_ms);
  if (count_members_ && !room.counting && stale) {
    room.counting = true;
    room.counted_at = now;
    count_members(room_id);
  }
}

void PresenceTracker::expire_graces(Clock::time_point now) {
  while (!graces_.empty() && graces_.begin()->first <= now) {
    auto deadline = graces_.begin()->first;
    auto [user_id, room_id] = std::move(graces_.begin()->second);
    graces_.erase(graces_.begin());
    auto it = users_.find(user_id);
    if (it == users_.end()) continue;
    auto& u = it->second;
    if (!room_id.empty()) {
      auto link = u.rooms.find(room_id);
      // A later connection re-entered the room, or a later close restarted its grace.
      if (link == u.rooms.end() || !link->second.in_grace || link->second.grace_until != deadline)
        continue;
      u.rooms.erase(link);
      went_offline(u.user, room_id);
    }
    if (u.connections == 0 && u.rooms.empty() && u.grace_until <= now) {
      report_users_.insert(user_id);
      users_.erase(it);
    }
  }
}

void PresenceTracker::on_tick() {
  auto now = Clock::now();
  std::vector<Outgoing> out;
  {
    std::lock_guard lock(mutex_);
    expire_graces(now);
    collect_due(now, out);
  }
  for (auto& o : out) {
    if (!o.event.empty()) sink_(o.room_id, std::move(o.event));
    if (change_sink_ && (!o.joined.empty() || !o.left.empty()))
      change_sink_(o.room_id, std::move(o.joined), std::move(o.left));
  }
}

void PresenceTracker::collect_due(Clock::time_point now, std::vector<Outgoing>& out) {
  std::vector<std::string> waiting;
  for (auto& room_id : due_) {
    auto it = rooms_.find(room_id);
    if (it == rooms_.end()) continue;
    auto& room = it->second;
    bool count_pending = room.counting && now - room.due_since < kCountWait;
    if (now < room.next_send || count_pending) {
      waiting.push_back(room_id);
      continue;
    }
    room.due = false;
    Outgoing o{room_id, {}, {}, {}};
    if (!build_event(room_id, room, now, o.event)) o.event.clear();
    take_local_changes(room, o);
    if (!o.event.empty() || !o.joined.empty() || !o.left.empty()) out.push_back(std::move(o));
    if (room.online == 0 && room.changes.empty() && !room.counting) {
      remote_.drop_room(room_id);
      rooms_.erase(it);
    }
  }
  due_.swap(waiting);
}

bool PresenceTracker::build_event(const std::string& room_id, RoomEntry& room,
                                  Clock::time_point now, std::string& event) {
  bool large = is_large(room);
  std::vector<User> joined, left;
  if (!large) {
    for (auto& [id, change] : room.changes)
      (change.second > 0 ? joined : left).push_back(change.first);
    auto by_id = [](const User& a, const User& b) { return a.id < b.id; };
    std::sort(joined.begin(), joined.end(), by_id);
    std::sort(left.begin(), left.end(), by_id);
  }
  room.changes.clear();
  int64_t online = room.online + room.remote_online;
  if (joined.empty() && left.empty() && online == room.sent_online) return false;
  room.sent_online = online;
  room.next_send =
      now + std::chrono::milliseconds(large ? settings_.large_window_ms : settings_.window_ms);
  event = presence_event(room_id, online, joined, left);
  return true;
}

void PresenceTracker::count_members(const std::string& room_id) {
  asio::post(blocking_, [this, room_id] {
    int64_t members = -1;
    try {
      members = count_members_(room_id);
    } catch (const std::exception& e) {
      log_ids(spdlog::level::warn, LogIds().room(room_id),
              "presence: counting the members failed: {}", e.what());
    }
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room_id);
    if (it == rooms_.end()) return;
    it->second.counting = false;
    if (members >= 0) it->second.members = members;
  });
}

}  // namespace roomcast

namespace roomcast {

PresenceTracker::Report PresenceTracker::take_report(bool full) {
  std::lock_guard lock(mutex_);
  Report out;
  if (full) {
    for (auto& [id, room] : rooms_)
      if (room.online > 0) out.rooms.emplace_back(id, room.online);
    for (auto& [id, user] : users_) out.users.emplace_back(id, user.connections);
  } else {
    for (auto& id : report_rooms_) {
      auto it = rooms_.find(id);
      out.rooms.emplace_back(id, it == rooms_.end() ? 0 : it->second.online);
    }
    for (auto id : report_users_) {
      auto it = users_.find(id);
      out.users.emplace_back(id, it == users_.end() ? -1 : it->second.connections);
    }
  }
  report_rooms_.clear();
  report_users_.clear();
  return out;
}

std::vector<std::string> PresenceTracker::local_rooms() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (auto& [id, room] : rooms_)
    if (room.online > 0) out.push_back(id);
  return out;
}

void PresenceTracker::set_remote_online(const std::string& room_id, int64_t online) {
  std::lock_guard lock(mutex_);
  apply_remote_online(room_id, online, false);
}

void PresenceTracker::apply_remote_online(const std::string& room_id, int64_t online,
                                          bool first_only) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end() || (first_only && it->second.remote_known)) return;
  it->second.remote_known = true;
  if (it->second.remote_online == online) return;
  it->second.remote_online = online;
  // A change is sent like a local one; after a first read, members here before it saw the
  // local count only.
  mark_due(room_id, it->second);
}

std::vector<std::string> PresenceTracker::rooms_without_remote_count(
    const std::vector<std::string>& room_ids) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (auto& id : room_ids) {
    auto it = rooms_.find(id);
    if (it != rooms_.end() && !it->second.remote_known) out.push_back(id);
  }
  return out;
}

void PresenceTracker::set_first_remote_online(const std::string& room_id, int64_t online) {
  std::lock_guard lock(mutex_);
  apply_remote_online(room_id, online, true);
}

}  // namespace roomcast
