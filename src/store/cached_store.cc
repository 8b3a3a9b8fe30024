#include "store/cached_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "store/cache_codec.h"

namespace roomcast {

namespace {

// Meta "floor:top" is checked against the set on every read: if the set lost entries (evicted,
// deleted by hand) the room's cache is dropped instead of serving a short history.
constexpr const char* kReadScript = R"lua(
local meta = redis.call('GET', KEYS[2])
if not meta then return {0} end
local sep = string.find(meta, ':', 1, true)
local floor = tonumber(string.sub(meta, 1, sep - 1))
local top = tonumber(string.sub(meta, sep + 1))
if top > floor then
  local maxe = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #maxe == 0 or tonumber(maxe[2]) ~= top then
    redis.call('DEL', KEYS[1], KEYS[2])
    return {0}
  end
end
local lo = math.max(floor, tonumber(ARGV[2]))
local items = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '(' .. lo, 'LIMIT', 0, tonumber(ARGV[3]))
return {1, floor, items}
)lua";

// Write-through of committed messages (ARGV: ttl, first seq, newest seq, window, score/member...).
constexpr const char* kWriteScript = R"lua(
local ttl = ARGV[1]
local first = tonumber(ARGV[2])
local newest = tonumber(ARGV[3])
local known = tonumber(redis.call('GET', KEYS[3]) or '0')
if newest > known then redis.call('SET', KEYS[3], ARGV[3], 'PX', ttl) else redis.call('PEXPIRE', KEYS[3], ttl) end
local meta = redis.call('GET', KEYS[2])
if not meta then return 0 end
local sep = string.find(meta, ':', 1, true)
local floor = tonumber(string.sub(meta, 1, sep - 1))
local top = tonumber(string.sub(meta, sep + 1))
if first > top + 1 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return -1
end
for i = 5, #ARGV, 2 do
  if tonumber(ARGV[i]) > floor then redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
local keep = tonumber(ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
if n > keep then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1)
  local lowest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  floor = math.max(floor, tonumber(lowest[2]) - 1)
end
if newest > top then top = newest end
redis.call('SET', KEYS[2], string.format('%d:%d', floor, top), 'PX', ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
)lua";

// Installs a window read from the database (ARGV: ttl, floor, top, score/member...), unless a
// newer message was written meanwhile (then this window is already stale) or another fill won.
constexpr const char* kFillScript = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local known = tonumber(redis.call('GET', KEYS[3]) or '0')
if known > tonumber(ARGV[3]) then return -1 end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[2], ARGV[2] .. ':' .. ARGV[3], 'PX', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
)lua";

constexpr const char* kUnlockScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::mt19937_64& rng() {
  thread_local std::mt19937_64 r{std::random_device{}()};
  return r;
}

}  // namespace

CachedStore::CachedStore(Store& inner, RedisClient& redis, CachedStoreOptions options)
    : inner_(inner), redis_(redis), options_(std::move(options)) {}

// Keys of one room share a hash tag so the scripts also work on a Redis Cluster.
std::string CachedStore::history_key(const std::string& r) const {
  return redis_keys::history(r, options_.prefix);
}
std::string CachedStore::meta_key(const std::string& r) const {
  return redis_keys::history_meta(r, options_.prefix);
}
std::string CachedStore::last_key(const std::string& r) const {
  return redis_keys::history_last(r, options_.prefix);
}
std::string CachedStore::lock_key(const std::string& r) const {
  return redis_keys::history_lock(r, options_.prefix);
}
std::string CachedStore::room_key(const std::string& id) const {
  return redis_keys::room(id, options_.prefix);
}
std::string CachedStore::membership_key(int64_t user_id) const {
  return redis_keys::memberships(user_id, options_.prefix);
}
std::string CachedStore::membership_gen_key(int64_t user_id) const {
  return redis_keys::memberships_generation(user_id, options_.prefix);
}

std::string CachedStore::ttl(std::chrono::milliseconds base) {
  std::uniform_real_distribution<double> d(1.0 - options_.jitter / 2, 1.0 + options_.jitter / 2);
  return std::to_string(std::max<int64_t>(1, static_cast<int64_t>(base.count() * d(rng()))));
}

CachedStore::Stats CachedStore::stats() const {
  return {hits_.load(),
          misses_.load(),
          fills_.load(),
          room_hits_.load(),
          room_misses_.load(),
          membership_hits_.load(),
          membership_misses_.load()};
}

// ---- history ----

CachedStore::Lookup CachedStore::read_cached(const std::string& room_id, uint64_t after_seq,
                                             uint64_t before_seq, int limit,
                                             std::vector<StoredMessage>& out) {
  out.clear();
  // Scores are doubles: exact up to 2^53, far beyond any real sequence.
  std::string max = before_seq >= (uint64_t{1} << 53) ? "+inf" : "(" + std::to_string(before_seq);
  auto r = redis_.command({"EVAL", kReadScript, "2", history_key(room_id), meta_key(room_id), max,
                           std::to_string(after_seq), std::to_string(limit)});
  if (r.elements.empty() || r.elements[0].integer == 0) return Lookup::kAbsent;
  auto floor = static_cast<uint64_t>(r.elements[1].integer);
  for (auto& item : r.elements[2].elements) {
    StoredMessage m;
    if (!decode_cached_message(room_id, item.str, m)) {
      redis_.command({"DEL", history_key(room_id), meta_key(room_id)});
      return Lookup::kAbsent;
    }
    out.push_back(std::move(m));
  }
  // Complete when the page is full, or when nothing below the cached range was asked for.
  if (static_cast<int>(out.size()) >= limit || floor <= after_seq) return Lookup::kHit;
  return Lookup::kNotCovered;
}

bool CachedStore::fill(const std::string& room_id) {
  std::string token = std::to_string(rng()());
  auto locked = redis_.command({"SET", lock_key(room_id), token, "NX", "PX",
                                std::to_string(options_.fill_lock_ttl.count())});
  if (locked.is_nil()) {
    // Someone else is filling this room: wait for it rather than adding to the database's load.
    auto deadline = std::chrono::steady_clock::now() + options_.fill_wait;
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (redis_.command({"EXISTS", meta_key(room_id)}).integer == 1) return true;
    }
    return false;
  }
  struct Unlock {
    CachedStore* self;
    const std::string& room;
    const std::string& token;
    ~Unlock() {
      try {
        self->redis_.command({"EVAL", kUnlockScript, "1", self->lock_key(room), token});
      } catch (const RedisError&) {
        // the lock expires on its own
      }
    }
  } unlock{this, room_id, token};

  // Double-checked: a reader that saw no cache may get the lock just after another's fill.
  if (redis_.command({"EXISTS", meta_key(room_id)}).integer == 1) return true;
  auto window = inner_.messages_between(room_id, 0, UINT64_MAX, options_.history_window);
  uint64_t top = window.empty() ? 0 : window.front().seq;
  // A short window holds the whole room (sequences start at 1).
  uint64_t floor =
      static_cast<int>(window.size()) < options_.history_window ? 0 : window.back().seq - 1;
  RedisClient::Args args{"EVAL",
                         kFillScript,
                         "3",
                         history_key(room_id),
                         meta_key(room_id),
                         last_key(room_id),
                         ttl(options_.history_ttl),
                         std::to_string(floor),
                         std::to_string(top)};
  for (auto& m : window) {
    args.push_back(std::to_string(m.seq));
    args.push_back(encode_cached_message(m));
  }
  auto r = redis_.command(args);
  if (r.integer == 1) ++fills_;
  return r.integer == 1 || r.integer == 0;  // installed, or another fill was installed first
}

std::vector<StoredMessage> CachedStore::messages_between(const std::string& room_id,
                                                         uint64_t after_seq, uint64_t before_seq,
                                                         int limit) {
  if (limit <= 0 || before_seq <= after_seq + 1) return {};
  std::vector<StoredMessage> out;
  try {
    auto found = read_cached(room_id, after_seq, before_seq, limit, out);
    if (found == Lookup::kAbsent && fill(room_id))
      found = read_cached(room_id, after_seq, before_seq, limit, out);
    if (found == Lookup::kHit) {
      ++hits_;
      return out;
    }
  } catch (const RedisError& e) {
    spdlog::warn("history cache of {} unavailable: {}", room_id, e.what());
  }
  ++misses_;
  return inner_.messages_between(room_id, after_seq, before_seq, limit);
}

RedisClient::Args CachedStore::write_through_args(const std::string& room_id,
                                                  const std::vector<const StoredMessage*>& rows) {
  uint64_t first = rows.front()->seq, newest = rows.front()->seq;
  for (auto* m : rows) {
    first = std::min(first, m->seq);
    newest = std::max(newest, m->seq);
  }
  RedisClient::Args args{"EVAL",
                         kWriteScript,
                         "3",
                         history_key(room_id),
                         meta_key(room_id),
                         last_key(room_id),
                         ttl(options_.history_ttl),
                         std::to_string(first),
                         std::to_string(newest),
                         std::to_string(options_.history_window)};
  for (auto* m : rows) {
    args.push_back(std::to_string(m->seq));
    args.push_back(encode_cached_message(*m));
  }
  return args;
}

void CachedStore::write_through(
    const std::map<std::string, std::vector<const StoredMessage*>>& by_room) {
  // Every room's script in one round trip (not one per room). The script is idempotent: a
  // retry re-adds the same members.
  std::vector<RedisClient::Args> writes;
  for (auto& [room, rows] : by_room) writes.push_back(write_through_args(room, rows));
  std::vector<std::string> failed;  // rooms whose cache must go
  try {
    // Each room's reply on its own: one failed script drops only that room's cache.
    auto replies = redis_.pipeline(writes, true, RedisErrorReplies::kReturn);
    std::size_t i = 0;
    for (auto& [room, rows] : by_room) {
      try {
        replies.at(i++).check();
      } catch (const RedisError& e) {
        spdlog::warn("history cache write of {} failed: {}; dropping the room's cache", room,
                     e.what());
        failed.push_back(room);
      }
    }
  } catch (const std::exception& e) {
    spdlog::warn("history cache write of {} rooms failed: {}; dropping their caches",
                 by_room.size(), e.what());
    for (auto& [room, rows] : by_room) failed.push_back(room);
  }
  if (failed.empty()) return;
  std::vector<RedisClient::Args> drops;
  for (auto& room : failed) drops.push_back({"DEL", history_key(room), meta_key(room)});
  try {
    redis_.pipeline(drops);
  } catch (const RedisError&) {
    // Redis is down: it cannot serve the stale entries either; they expire.
  }
}

void CachedStore::append_messages(const std::vector<StoredMessage>& messages) {
  inner_.append_messages(messages);  // the database first: the cache only holds committed rows
  std::map<std::string, std::vector<const StoredMessage*>> by_room;
  for (auto& m : messages) by_room[m.room_id].push_back(&m);
  if (!by_room.empty()) write_through(by_room);
}

// ---- rooms ----

// Value "1<name>" for a room, "0" for an id known not to exist.
void CachedStore::cache_room(const std::string& id, const std::optional<RoomInfo>& room) {
  try {
    redis_.command({"SET", room_key(id), room ? "1" + room->name : std::string("0"), "PX",
                    ttl(room ? options_.room_ttl : options_.negative_ttl)});
  } catch (const RedisError& e) {
    spdlog::warn("room cache write failed: {}", e.what());
  }
}

void CachedStore::ensure_room(const RoomInfo& room) {
  inner_.ensure_room(room);
  cache_room(room.id, room);
}

bool CachedStore::create_room(const RoomInfo& room, int64_t creator) {
  if (!inner_.create_room(room, creator)) return false;
  cache_room(room.id, room);  // replaces a negative entry for this id
  return true;
}

std::optional<RoomInfo> CachedStore::find_room(const std::string& id) {
  try {
    auto v = redis_.command({"GET", room_key(id)}).string();
    if (v && !v->empty()) {
      ++room_hits_;
      if ((*v)[0] == '0') return std::nullopt;
      return RoomInfo{id, v->substr(1)};
    }
  } catch (const RedisError& e) {
    spdlog::warn("room cache unavailable: {}", e.what());
    return inner_.find_room(id);
  }
  ++room_misses_;
  auto room = inner_.find_room(id);
  cache_room(id, room);
  return room;
}

std::vector<RoomInfo> CachedStore::find_rooms(const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  std::vector<std::optional<RoomInfo>> found(ids.size());
  std::vector<std::string> missing;
  try {
    RedisClient::Args mget{"MGET"};
    for (auto& id : ids) mget.push_back(room_key(id));
    auto r = redis_.command(mget);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto v = i < r.elements.size() ? r.elements[i].string() : std::nullopt;
      if (v && !v->empty()) {
        ++room_hits_;
        if ((*v)[0] == '1') found[i] = RoomInfo{ids[i], v->substr(1)};
      } else {
        missing.push_back(ids[i]);
      }
    }
  } catch (const RedisError& e) {
    spdlog::warn("room cache unavailable: {}", e.what());
    return inner_.find_rooms(ids);
  }
  if (!missing.empty()) {
    room_misses_ += missing.size();
    auto rooms = inner_.find_rooms(missing);
    std::map<std::string, RoomInfo> by_id;
    for (auto& r : rooms) by_id[r.id] = r;
    for (auto& id : missing) {
      auto it = by_id.find(id);
      cache_room(id, it == by_id.end() ? std::nullopt : std::optional<RoomInfo>(it->second));
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (!found[i])
        if (auto it = by_id.find(ids[i]); it != by_id.end()) found[i] = it->second;
  }
  std::vector<RoomInfo> out;
  for (auto& f : found)
    if (f) out.push_back(std::move(*f));
  return out;
}

// ---- memberships ----

std::vector<Store::Membership> CachedStore::memberships(int64_t user_id) {
  std::string generation = "0";  // no generation key yet: nothing changed since it was lost
  try {
    auto r = redis_.command({"MGET", membership_key(user_id), membership_gen_key(user_id)});
    if (r.elements.size() == 2) {
      if (auto g = r.elements[1].string()) generation = *g;
      if (auto v = r.elements[0].string()) {
        std::vector<Membership> rows;
        if (decode_memberships(*v, generation, rows)) {
          ++membership_hits_;
          return rows;
        }
      }
    }
  } catch (const RedisError& e) {
    spdlog::warn("membership cache unavailable: {}", e.what());
    return inner_.memberships(user_id);
  }
  return load_memberships(user_id, generation);
}

std::vector<Store::Membership> CachedStore::load_memberships(int64_t user_id,
                                                             const std::string& generation) {
  ++membership_misses_;
  // Read after the generation: a change committed meanwhile bumps it, and this entry (tagged
  // with the old one) is then never served.
  auto rows = inner_.memberships(user_id);
  try {
    redis_.command({"SET", membership_key(user_id), encode_memberships(generation, rows), "PX",
                    ttl(options_.membership_ttl)});
  } catch (const RedisError& e) {
    spdlog::warn("membership cache write failed: {}", e.what());
  }
  return rows;
}

std::vector<std::vector<Store::Membership>> CachedStore::memberships_of(
    const std::vector<int64_t>& users) {
  std::vector<std::vector<Membership>> out(users.size());
  RedisClient::Args args{"MGET"};
  args.reserve(1 + 2 * users.size());
  for (auto id : users) {
    args.push_back(membership_key(id));
    args.push_back(membership_gen_key(id));
  }
  RedisReply r;
  try {
    if (!users.empty()) r = redis_.command(args);
  } catch (const RedisError& e) {
    spdlog::warn("membership cache unavailable: {}", e.what());
    for (std::size_t i = 0; i < users.size(); ++i) out[i] = inner_.memberships(users[i]);
    return out;
  }
  bool complete = r.elements.size() == 2 * users.size();
  for (std::size_t i = 0; i < users.size(); ++i) {
    std::string generation = "0";
    if (complete) {
      if (auto g = r.elements[2 * i + 1].string()) generation = *g;
      auto v = r.elements[2 * i].string();
      if (v && decode_memberships(*v, generation, out[i])) {
        ++membership_hits_;
        continue;
      }
    }
    out[i] = load_memberships(users[i], generation);
  }
  return out;
}

void CachedStore::set_membership(int64_t user_id, const std::string& room_id, bool joined) {
  inner_.set_membership(user_id, room_id, joined);
  // The generation outlives every entry tagged with it (a day vs. the entry TTL), so an expired
  // generation can never make an old entry current again. A doubled bump is harmless; a lost one
  // serves the entry from before this change until it expires (NOT_MEMBER right after a join),
  // so a bump that failed (typically: no pool connection free in time, under load) is retried.
  constexpr int kBumpAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    try {
      redis_.pipeline({{"INCR", membership_gen_key(user_id)},
                       {"PEXPIRE", membership_gen_key(user_id), "86400000"}},
                      false);
      return;
    } catch (const RedisError& e) {
      if (attempt < kBumpAttempts) continue;
      spdlog::warn("membership cache invalidation failed (entry expires by itself): {}", e.what());
      return;
    }
  }
}

}  // namespace roomcast
