#include "discovery/registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/ids.h"
#include "store/redis_keys.h"

namespace roomcast {

std::string node_key(const std::string& role, const std::string& id) {
  return redis_keys::node(role, id);
}

namespace {
std::string index_key(const std::string& role) {
  return redis_keys::nodes(role);
}

}  // namespace

Registry::Registry(RedisClient& redis, NodeInfo self, int ttl_ms, LoadFn load)
    : redis_(redis),
      self_(std::move(self)),
      ttl_ms_(std::max(ttl_ms, 300)),
      load_(std::move(load)),
      // Three beats per TTL: one lost beat (a slow Redis) does not make the node look dead.
      heartbeat_("registry: heartbeat failed", std::chrono::milliseconds(ttl_ms_ / 3),
                 [this] { beat(); }) {}

Registry::~Registry() {
  stop();
}

void Registry::beat() {
  int64_t load = load_ ? load_() : 0;
  std::string value = self_.address + "\t" + self_.public_address + "\t" + std::to_string(load);
  auto now = std::chrono::steady_clock::now();
  // SET (not PEXPIRE): recreates the entry after a Redis restart or FLUSHALL. GET tells
  // whether the entry was still there. An error reply throws: a failed heartbeat.
  auto replies = redis_.pipeline(
      {{"SET", node_key(self_.role, self_.id), value, "PX", std::to_string(ttl_ms_), "GET"},
       {"SADD", index_key(self_.role), self_.id},
       // A fresh token each time: after a flush the epoch always differs.
       {"SET", redis_keys::registry_epoch(), random_hex(8), "NX"}});
  bool was_listed = replies.at(0).string().has_value();
  bool late = last_beat_ && now - *last_beat_ > std::chrono::milliseconds(ttl_ms_);
  bool lost = last_beat_ && (!was_listed || late);
  last_beat_ = now;
  if (lost) {
    spdlog::warn("registry: {} {} was out of the registry ({}); peers may have skipped it",
                 self_.role, self_.id, was_listed ? "heartbeat late" : "entry gone");
    if (on_lost_) on_lost_();
  }
}

void Registry::start() {
  beat();  // fail loudly at startup if Redis is unreachable
  spdlog::info("registry: {} {} registered (grpc {}, public {})", self_.role, self_.id,
               self_.address, self_.public_address);
  heartbeat_.start();
}

void Registry::stop() {
  if (!heartbeat_.stop()) return;
  try {
    redis_.pipeline(
        {{"DEL", node_key(self_.role, self_.id)}, {"SREM", index_key(self_.role), self_.id}});
    spdlog::info("registry: {} {} deregistered", self_.role, self_.id);
  } catch (const std::exception& e) {
    spdlog::warn("registry: deregistration failed (the entry expires by itself): {}", e.what());
  }
}

Resolver::Resolver(RedisClient& redis, std::string role, int refresh_ms, int grace_ms)
    : redis_(redis),
      role_(std::move(role)),
      refresh_ms_(std::max(refresh_ms, 50)),
      known_(std::chrono::milliseconds(std::max(grace_ms, 0))),
      refresher_("resolver " + role_ + ": refresh failed", std::chrono::milliseconds(refresh_ms_),
                 [this] { refresh(); }) {}

Resolver::~Resolver() {
  stop();
}

void Resolver::refresh() {
  // The epoch is read after the entries, in the same pipeline: a flush between two reads
  // (pipelines are not atomic) then always shows as a changed epoch, never as nodes that
  // silently vanished under an unchanged one.
  auto head =
      redis_.pipeline({{"SMEMBERS", index_key(role_)}, {"GET", redis_keys::registry_epoch()}});
  auto& ids = head.at(0);
  auto epoch = head.at(1).string().value_or("");
  std::vector<NodeInfo> live;
  RedisClient::Args dead{"SREM", index_key(role_)};
  if (!ids.elements.empty()) {
    RedisClient::Args mget{"MGET"};
    for (auto& id : ids.elements) mget.push_back(node_key(role_, id.str));
    auto tail = redis_.pipeline({mget, {"GET", redis_keys::registry_epoch()}});
    auto& values = tail.at(0);
    epoch = tail.at(1).string().value_or("");
    for (std::size_t i = 0; i < ids.elements.size() && i < values.elements.size(); ++i) {
      auto v = values.elements[i].string();
      if (!v) {
        dead.push_back(ids.elements[i].str);
        continue;
      }
      live.push_back(parse_node_entry(role_, ids.elements[i].str, *v));
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (known_.update(std::move(live), epoch, std::chrono::steady_clock::now()))
      spdlog::warn(
          "resolver {}: the registry was lost in Redis; keeping known nodes while they "
          "re-register",
          role_);
  }
  // Prune expired members so the index does not grow with every restart (after publishing:
  // a failed prune does not hold back the list).
  if (dead.size() > 2) redis_.command(dead);
}

void Resolver::start() {
  try {
    refresh();
  } catch (const std::exception& e) {
    spdlog::warn("resolver {}: first refresh failed: {}", role_, e.what());
  }
  refresher_.start();
}

void Resolver::stop() {
  refresher_.stop();
}

std::vector<NodeInfo> Resolver::nodes() const {
  std::lock_guard lock(mutex_);
  return known_.nodes();
}

}  // namespace roomcast
