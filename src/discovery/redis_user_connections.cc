#include "discovery/redis_user_connections.h"

#include <spdlog/spdlog.h>

namespace roomcast {

namespace {
constexpr int64_t kUserSetTtlMs = 24 * 3600 * 1000;
constexpr int64_t kEvictListTtlMs = 60 * 1000;

// Adds the connection (scored by the Redis server's clock, so comets' clocks need not agree)
// and removes the user's oldest past ARGV[2]; returns the removed members.
constexpr const char* kOpenScript = R"(
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[2])
if max <= 0 or n <= max then return {} end
local old = redis.call('ZRANGE', KEYS[1], 0, n - max - 1)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1)
return old)";

// Takes the whole eviction list.
constexpr const char* kTakeScript = R"(
local v = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return v)";

uint64_t parse_conn(const std::string& s) {
  try {
    return std::stoull(s);
  } catch (const std::exception&) {
    return 0;
  }
}
}  // namespace

RedisUserConnections::RedisUserConnections(RedisClient& redis, std::string comet_id, int max,
                                           std::function<void(uint64_t)> close_local,
                                           std::chrono::milliseconds poll, std::string prefix)
    : redis_(redis),
      comet_id_(std::move(comet_id)),
      max_(max),
      close_local_(std::move(close_local)),
      prefix_(std::move(prefix)),
      poller_("user-connections", poll, [this] { poll_evictions(); }) {}

RedisUserConnections::~RedisUserConnections() {
  poller_.stop();
}

std::string RedisUserConnections::user_key(int64_t user_id) const {
  return redis_keys::user_connections(user_id, prefix_);
}

std::string RedisUserConnections::evict_key(const std::string& comet) const {
  return redis_keys::evictions(comet, prefix_);
}

std::string RedisUserConnections::member(uint64_t conn_id) const {
  return comet_id_ + "|" + std::to_string(conn_id);
}

std::vector<uint64_t> RedisUserConnections::opened(int64_t user_id, uint64_t conn_id) {
  std::vector<uint64_t> local;
  std::vector<RedisClient::Args> notices;
  try {
    auto reply = redis_.command_once({"EVAL", kOpenScript, "1", user_key(user_id), member(conn_id),
                                      std::to_string(max_), std::to_string(kUserSetTtlMs)});
    for (auto& m : reply.elements) {
      auto sep = m.str.rfind('|');
      if (sep == std::string::npos) continue;
      auto comet = m.str.substr(0, sep);
      uint64_t conn = parse_conn(m.str.substr(sep + 1));
      if (comet == comet_id_) {
        local.push_back(conn);
        continue;
      }
      notices.push_back({"RPUSH", evict_key(comet), std::to_string(conn)});
      notices.push_back({"PEXPIRE", evict_key(comet), std::to_string(kEvictListTtlMs)});
    }
    if (!notices.empty()) redis_.pipeline(notices, false);
  } catch (const std::exception& e) {
    // The limit is not worth refusing a connection over: this comet's own count still holds.
    spdlog::warn("user connections: user {} not counted cluster-wide: {}", user_id, e.what());
  }
  return local;
}

void RedisUserConnections::closed(int64_t user_id, uint64_t conn_id) {
  try {
    redis_.command({"ZREM", user_key(user_id), member(conn_id)});
  } catch (const std::exception& e) {
    spdlog::warn("user connections: closing {} of user {}: {}", conn_id, user_id, e.what());
  }
}

void RedisUserConnections::poll_evictions() {
  auto reply = redis_.command_once({"EVAL", kTakeScript, "1", evict_key(comet_id_)});
  for (auto& e : reply.elements)
    if (uint64_t conn = parse_conn(e.str)) close_local_(conn);
}

}  // namespace roomcast
