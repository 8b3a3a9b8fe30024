#include "discovery/cluster_presence.h"

#include <spdlog/spdlog.h>

#include "common/ids.h"
#include "store/redis_keys.h"

namespace roomcast {
namespace {
const std::string kComets = redis_keys::presence_comets();
const char* const kAliveField = "~";  // room ids and user ids never contain '~'
std::string rooms_key(const std::string& comet) {
  return redis_keys::presence_rooms(comet);
}
std::string users_key(const std::string& comet) {
  return redis_keys::presence_users(comet);
}

// The comets that reported within `ttl`: members of a sorted set scored with the time of their
// last report, so a reader never has to remove another comet (which would race its re-adding).
std::vector<std::string> reporting_comets(RedisClient& redis, std::chrono::milliseconds ttl) {
  auto since = std::to_string(now_ms() - ttl.count());
  std::vector<std::string> out;
  // (The reply is kept in a variable: a range-for over a member of a temporary would dangle.)
  auto reply = redis.command({"ZRANGEBYSCORE", kComets, "(" + since, "+inf"});
  for (auto& e : reply.elements)
    if (auto s = e.string()) out.push_back(*s);
  return out;
}
constexpr auto kForgetAfter = std::chrono::minutes(10);  // entries of comets long gone

int64_t to_int(const RedisReply& r) {
  auto s = r.string();
  return s ? std::stoll(*s) : 0;
}

// Each comet's counts of `rooms` (a row per comet, 0 where it has none), in one pipeline.
std::vector<std::vector<int64_t>> room_counts_of(RedisClient& redis,
                                                 const std::vector<std::string>& comets,
                                                 const std::vector<std::string>& rooms) {
  std::vector<std::vector<int64_t>> out(comets.size(), std::vector<int64_t>(rooms.size(), 0));
  if (comets.empty() || rooms.empty()) return out;
  std::vector<RedisClient::Args> cmds;
  for (auto& c : comets) {
    RedisClient::Args get{"HMGET", rooms_key(c)};
    get.insert(get.end(), rooms.begin(), rooms.end());
    cmds.push_back(std::move(get));
  }
  auto replies = redis.pipeline(cmds);
  for (std::size_t i = 0; i < comets.size(); ++i)
    for (std::size_t k = 0; k < rooms.size() && k < replies[i].elements.size(); ++k)
      out[i][k] = to_int(replies[i].elements[k]);
  return out;
}
}  // namespace

ClusterPresence::ClusterPresence(RedisClient& redis, std::string comet_id, PresenceTracker& tracker,
                                 std::chrono::milliseconds period, std::chrono::milliseconds ttl,
                                 std::chrono::milliseconds grace)
    : redis_(redis),
      comet_id_(std::move(comet_id)),
      tracker_(tracker),
      ttl_(ttl),
      grace_(grace),
      task_("presence: cluster report failed", period, [this] { step(); }),
      outbox_task_("presence: handing users to Logic failed", period, [this] { flush_outbox(); }) {}

ClusterPresence::~ClusterPresence() {
  stop();
}

void ClusterPresence::start() {
  // A comet restarted under the same id finds its former users in Redis: they keep the grace
  // to reconnect before its first full batch says who is here.
  outbox_from_ = std::chrono::steady_clock::now() + grace_;
  task_.start();
  if (outbox_) outbox_task_.start();
}

void ClusterPresence::stop() {
  outbox_task_.stop();
  task_.stop();
}

void ClusterPresence::step() {
  try {
    report();
  } catch (...) {
    full_ = true;  // what was taken from the tracker may be lost: say everything next time
    throw;
  }
  read_remote();
}

void ClusterPresence::flush_outbox() {
  if (!outbox_ || std::chrono::steady_clock::now() < outbox_from_) return;
  try {
    // Swept while frozen, or Redis lost the holdings: the next report says everything.
    if (outbox_->flush()) resync_ = true;
    if (outbox_failing_) spdlog::info("presence: {} reaches Logic again", comet_id_);
    outbox_failing_ = false;
  } catch (const std::exception& e) {
    if (!outbox_failing_)
      spdlog::warn("presence: {} could not hand its users to Logic (kept): {}", comet_id_,
                   e.what());
    outbox_failing_ = true;
  }
}

void ClusterPresence::report() {
  if (resync_.exchange(false)) full_ = true;
  // The hashes outlive the liveness window (the sorted set's TTL) by the grace: readers keep a
  // silent comet's counts for the grace, and must not see them vanish before that.
  auto ttl = std::to_string((ttl_ + grace_).count());
  auto rooms = rooms_key(comet_id_), users = users_key(comet_id_);
  // First: did our hashes survive? Gone means Redis lost them or we were frozen past the TTL.
  auto alive = redis_.pipeline({{"PEXPIRE", users, ttl}, {"PEXPIRE", rooms, ttl}});
  bool lost = alive[0].integer == 0 && alive[1].integer == 0;
  auto delta = tracker_.take_report(full_ || lost);
  if (outbox_) outbox_->add(full_ || lost, delta.users);
  std::vector<RedisClient::Args> cmds;
  if (full_ || lost) cmds.push_back({"DEL", rooms, users});
  for (auto& [room, n] : delta.rooms)
    cmds.push_back(n > 0 ? RedisClient::Args{"HSET", rooms, room, std::to_string(n)}
                         : RedisClient::Args{"HDEL", rooms, room});
  for (auto& [user, n] : delta.users)
    cmds.push_back(n >= 0
                       ? RedisClient::Args{"HSET", users, std::to_string(user), std::to_string(n)}
                       : RedisClient::Args{"HDEL", users, std::to_string(user)});
  // A marker field (never a room or user id) keeps both hashes in existence while this comet
  // reports, even with no users: so "gone" above means lost, not merely empty.
  cmds.push_back({"HSET", rooms, kAliveField, "1"});
  cmds.push_back({"HSET", users, kAliveField, "1"});
  cmds.push_back({"PEXPIRE", rooms, ttl});
  cmds.push_back({"PEXPIRE", users, ttl});
  cmds.push_back({"ZADD", kComets, std::to_string(now_ms()), comet_id_});
  cmds.push_back(
      {"ZREMRANGEBYSCORE", kComets, "-inf",
       "(" + std::to_string(now_ms() - int64_t{kForgetAfter / std::chrono::milliseconds(1)})});
  redis_.pipeline(cmds);
  if (lost && !full_)
    spdlog::warn("presence: {} found its reports gone and re-announced its users", comet_id_);
  full_ = false;
}

std::vector<std::string> ClusterPresence::other_comets() const {
  auto comets = reporting_comets(redis_, ttl_);
  std::erase(comets, comet_id_);
  return comets;
}

void ClusterPresence::read_remote() {
  auto rooms = tracker_.local_rooms();
  auto now = std::chrono::steady_clock::now();
  auto comets = other_comets();
  if (!rooms.empty() && !comets.empty()) {
    auto counts = room_counts_of(redis_, comets, rooms);
    for (std::size_t i = 0; i < comets.size(); ++i) {
      auto& remote = remotes_[comets[i]];
      remote.rooms.clear();
      for (std::size_t k = 0; k < rooms.size(); ++k)
        if (int64_t n = counts[i][k]) remote.rooms[rooms[k]] = n;
    }
  }
  for (auto& c : comets) remotes_[c].seen = now;
  // A comet silent past the TTL keeps its last counts for the grace, then its users are gone.
  // Its named users go offline too (those no other comet reported online since).
  std::erase_if(remotes_, [&](auto& entry) {
    if (now - entry.second.seen <= grace_) return false;
    tracker_.forget_comet(entry.first);
    return true;
  });
  std::unordered_map<std::string, int64_t> sums;
  for (auto& [c, remote] : remotes_)
    for (auto& [room, n] : remote.rooms) sums[room] += n;
  for (auto& room : rooms) tracker_.set_remote_online(room, sums[room]);
}

void ClusterPresence::read_missing(const std::vector<std::string>& room_ids) {
  auto rooms = tracker_.rooms_without_remote_count(room_ids);
  if (rooms.empty()) return;
  try {
    std::vector<int64_t> sums(rooms.size(), 0);
    for (auto& row : room_counts_of(redis_, other_comets(), rooms))
      for (std::size_t k = 0; k < rooms.size(); ++k) sums[k] += row[k];
    for (std::size_t k = 0; k < rooms.size(); ++k)
      tracker_.set_first_remote_online(rooms[k], sums[k]);
  } catch (const std::exception& e) {
    spdlog::warn("presence: reading the other comets' counts failed: {}", e.what());
  }
}

UserPresence cluster_user_presence(RedisClient& redis, std::chrono::milliseconds ttl,
                                   int64_t user_id) {
  UserPresence out{user_id, false, 0};
  auto comets = reporting_comets(redis, ttl);
  std::vector<RedisClient::Args> cmds;
  for (auto& c : comets) cmds.push_back({"HGET", users_key(c), std::to_string(user_id)});
  if (cmds.empty()) return out;
  for (auto& r : redis.pipeline(cmds)) {
    if (r.is_nil()) continue;
    out.online = true;
    out.connections += to_int(r);
  }
  return out;
}

int64_t cluster_room_online(RedisClient& redis, std::chrono::milliseconds ttl,
                            const std::string& room_id) {
  auto comets = reporting_comets(redis, ttl);
  std::vector<RedisClient::Args> cmds;
  for (auto& c : comets) cmds.push_back({"HGET", rooms_key(c), room_id});
  int64_t sum = 0;
  if (!cmds.empty())
    for (auto& r : redis.pipeline(cmds)) sum += to_int(r);
  return sum;
}

std::vector<bool> cluster_users_online(RedisClient& redis, std::chrono::milliseconds ttl,
                                       const std::vector<int64_t>& user_ids) {
  std::vector<bool> out(user_ids.size(), false);
  if (user_ids.empty()) return out;
  std::vector<RedisClient::Args> cmds;
  for (auto& c : reporting_comets(redis, ttl)) {
    RedisClient::Args hmget{"HMGET", users_key(c)};
    for (auto id : user_ids) hmget.push_back(std::to_string(id));
    cmds.push_back(std::move(hmget));
  }
  if (cmds.empty()) return out;
  for (auto& r : redis.pipeline(cmds)) {
    auto& found = r.elements;
    for (std::size_t i = 0; i < found.size() && i < out.size(); ++i)
      if (!found[i].is_nil()) out[i] = true;
  }
  return out;
}

}  // namespace roomcast
