#include "discovery/routing.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/ids.h"
#include "store/redis_keys.h"

namespace roomcast {

std::string room_route_key(const std::string& room_id) {
  return redis_keys::room_route(room_id);
}
std::string user_route_key(int64_t user_id) {
  return redis_keys::user_route(user_id);
}

namespace {
std::string mark_key(const std::string& comet_id) {
  return redis_keys::route_mark(comet_id);
}
constexpr auto kMarkCheck = std::chrono::seconds(1);

// Mark checks between full re-announcements: every third of an entry's life, so one failed
// round loses nothing. A round costs three Redis commands per local user and room (16,667 users
// per comet in the 100k run): every 5 s, 100,000 idle users meant 60,000 commands/s.
int full_round_every(int entry_ttl_ms) {
  auto check_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kMarkCheck).count();
  return std::max(1, static_cast<int>(entry_ttl_ms / 3 / check_ms));
}
}  // namespace

RouteRegistry::RouteRegistry(RedisClient& redis, std::string comet_id, const Comet& comet,
                             int entry_ttl_ms)
    : redis_(redis),
      comet_id_(std::move(comet_id)),
      comet_(comet),
      ttl_ms_(entry_ttl_ms),
      checker_("routing: reconciliation failed", kMarkCheck, [this] { check(); }) {}

RouteRegistry::~RouteRegistry() {
  stop();
}

void RouteRegistry::announce(const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  auto expiry = std::to_string(now_ms() + ttl_ms_);
  auto key_ttl = std::to_string(2 * ttl_ms_);
  std::vector<RedisClient::Args> cmds;
  cmds.reserve(keys.size() * 2);
  for (auto& k : keys) {
    cmds.push_back({"ZADD", k, expiry, comet_id_});
    // The key itself outlives its newest entry, so abandoned rooms leave nothing behind.
    cmds.push_back({"PEXPIRE", k, key_ttl});
  }
  redis_.pipeline(cmds);
}

void RouteRegistry::rooms_subscribed(const std::vector<std::string>& room_ids) {
  std::vector<std::string> keys;
  for (auto& id : room_ids) keys.push_back(room_route_key(id));
  announce(keys);
}

void RouteRegistry::user_connected(int64_t user_id) {
  announce({user_route_key(user_id)});
}

std::vector<std::string> RouteRegistry::local_keys() const {
  std::vector<std::string> keys;
  for (auto& r : comet_.local_rooms()) keys.push_back(room_route_key(r));
  for (auto u : comet_.local_users()) keys.push_back(user_route_key(u));
  return keys;
}

void RouteRegistry::reconcile() {
  auto keys = local_keys();
  // Entries past their expiry are ignored by readers; removing them keeps the sets small.
  auto now = std::to_string(now_ms());
  std::vector<RedisClient::Args> cleanup;
  for (auto& k : keys) cleanup.push_back({"ZREMRANGEBYSCORE", k, "-inf", "(" + now});
  if (!cleanup.empty()) redis_.pipeline(cleanup);
  announce(keys);
  redis_.command({"SET", mark_key(comet_id_), "1", "PX", std::to_string(ttl_ms_)});
}

void RouteRegistry::check() {
  bool full = ++round_ % full_round_every(ttl_ms_) == 0;
  if (!full && redis_.command({"EXISTS", mark_key(comet_id_)}).integer == 0) {
    spdlog::warn("routing: routes of {} vanished from Redis, re-announcing", comet_id_);
    full = true;
  }
  if (full) reconcile();
}

void RouteRegistry::start() {
  reconcile();
  checker_.start();
}

void RouteRegistry::stop() {
  if (!checker_.stop()) return;
  try {
    std::vector<RedisClient::Args> cmds;
    for (auto& k : local_keys()) cmds.push_back({"ZREM", k, comet_id_});
    cmds.push_back({"DEL", mark_key(comet_id_)});
    redis_.pipeline(cmds);
  } catch (const std::exception& e) {
    spdlog::warn("routing: withdrawing routes failed (they expire by themselves): {}", e.what());
  }
}

// Longer than a comet needs to notice the loss (its mark check, 1 s) and re-announce.
RouteTable::RouteTable(RedisClient& redis) : redis_(redis), epoch_(std::chrono::seconds(5)) {}

bool RouteTable::complete() {
  auto replies = redis_.pipeline({{"SET", redis_keys::route_epoch(), random_hex(8), "NX"},
                                  {"GET", redis_keys::route_epoch()}});
  bool complete =
      epoch_.complete(replies.at(1).string().value_or(""), std::chrono::steady_clock::now());
  if (epoch_.lost()) spdlog::warn("routing: routes were lost in Redis, sending to every comet");
  return complete;
}

std::vector<std::vector<std::string>> RouteTable::read(const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> out(keys.size());
  if (keys.empty()) return out;
  auto now = std::to_string(now_ms());
  std::vector<RedisClient::Args> cmds;
  cmds.reserve(keys.size());
  for (auto& k : keys) cmds.push_back({"ZRANGEBYSCORE", k, now, "+inf"});
  auto replies = redis_.pipeline(cmds);
  for (std::size_t i = 0; i < replies.size() && i < keys.size(); ++i) {
    for (auto& e : replies[i].elements) out[i].push_back(e.str);
  }
  return out;
}

std::vector<std::vector<std::string>> RouteTable::rooms(const std::vector<std::string>& room_ids) {
  std::vector<std::string> keys;
  for (auto& r : room_ids) keys.push_back(room_route_key(r));
  return read(keys);
}

std::vector<std::vector<std::string>> RouteTable::users(const std::vector<int64_t>& user_ids) {
  std::vector<std::string> keys;
  for (auto u : user_ids) keys.push_back(user_route_key(u));
  return read(keys);
}

}  // namespace roomcast
