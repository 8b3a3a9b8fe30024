// A Store decorator that keeps each room's recent history and room lookups in Redis in front of
// the database (MysqlStore in the distributed mode). Everything else is delegated.
//
// History: per room a sorted set of the newest `history_window` messages (member = encoded
// message, score = seq) and a meta key "floor:top" meaning "every message with
// floor < seq <= top is in the set, and top is the newest the cache knows". A page is served from
// Redis when the set can answer it completely; otherwise it is read from the database.
//  - append_messages (called by Job) writes through after the database commit. A write that
//    would leave a hole (the cache missed an earlier write) drops the room's cache instead.
//  - A miss while the room has no cache fills the newest window from the database (cache-aside).
//    One reader per room fills (a SET NX PX lock against stampedes); the others wait briefly for
//    it, then read the database. A fill loses to a concurrent newer write: every append records
//    the room's newest seq (a key that outlives the cache), and a fill older than that is dropped.
//  - Expiry is jittered so rooms filled together do not all expire together (avalanche).
//  - memberships(user) (Logic checks them on every post) are cached per user, tagged with a
//    per-user generation that set_membership increments after the database write; an entry
//    whose tag is not the current generation is a miss, so a fill that raced a change is never
//    served. If Redis is unreachable during a change, the short TTL bounds the staleness.
//  - find_room caches unknown ids too (short negative TTL) so lookups of ids that do not exist
//    do not all reach the database (penetration); create/ensure overwrite the entry.
// Redis failures never fail a call: reads fall back to the database, write-through failures
// are logged (the entry expires).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>

#include "store/redis_client.h"
#include "store/redis_keys.h"
#include "store/store.h"

namespace roomcast {

struct CachedStoreOptions {
  int history_window = 200;  // newest messages kept per room
  std::chrono::milliseconds history_ttl{3600 * 1000};
  std::chrono::milliseconds room_ttl{600 * 1000};
  std::chrono::milliseconds negative_ttl{10 * 1000};
  std::chrono::milliseconds membership_ttl{60 * 1000};
  std::chrono::milliseconds fill_lock_ttl{3000};
  std::chrono::milliseconds fill_wait{200};  // how long a reader waits for another's fill
  double jitter = 0.2;                       // expiries are spread by ±jitter/2
  std::string prefix = std::string(redis_keys::kPrefix);  // see redis_keys.h
};

class CachedStore final : public Store {
 public:
  CachedStore(Store& inner, RedisClient& redis, CachedStoreOptions options = {});

  CreateUserResult create_user(const std::string& username, const std::string& email,
                               const std::string& password_hash, int64_t& id_out) override {
    return inner_.create_user(username, email, password_hash, id_out);
  }
  CreateUserResult account_conflict(const std::string& username,
                                    const std::string& email) override {
    return inner_.account_conflict(username, email);
  }
  std::optional<UserCredentials> find_user_by_email(const std::string& email) override {
    return inner_.find_user_by_email(email);
  }
  std::optional<User> find_user(int64_t id) override { return inner_.find_user(id); }
  void ensure_room(const RoomInfo& room) override;
  bool create_room(const RoomInfo& room, int64_t creator) override;
  std::optional<RoomInfo> find_room(const std::string& id) override;
  std::vector<RoomInfo> find_rooms(const std::vector<std::string>& ids) override;
  std::vector<Membership> memberships(int64_t user_id) override;
  // One MGET for every user's entry; misses are read from the database and cached.
  std::vector<std::vector<Membership>> memberships_of(const std::vector<int64_t>& users) override;
  void set_membership(int64_t user_id, const std::string& room_id, bool joined) override;
  uint64_t last_seq(const std::string& room_id) override { return inner_.last_seq(room_id); }
  std::optional<StoredMessage> find_by_dedup_key(const std::string& key) override {
    return inner_.find_by_dedup_key(key);
  }
  std::vector<StoredMessage> find_by_dedup_keys(const std::vector<std::string>& keys) override {
    return inner_.find_by_dedup_keys(keys);
  }
  void append_messages(const std::vector<StoredMessage>& messages) override;
  std::vector<StoredMessage> messages_between(const std::string& room_id, uint64_t after_seq,
                                              uint64_t before_seq, int limit) override;

  // Counters for tests and metrics.
  struct Stats {
    uint64_t history_hits = 0, history_misses = 0, fills = 0, room_hits = 0, room_misses = 0,
             membership_hits = 0, membership_misses = 0;
  };
  Stats stats() const;

 private:
  enum class Lookup { kHit, kAbsent, kNotCovered };
  Lookup read_cached(const std::string& room_id, uint64_t after_seq, uint64_t before_seq, int limit,
                     std::vector<StoredMessage>& out);
  bool fill(const std::string& room_id);
  // A membership miss: the database's rows, cached under the generation read before.
  std::vector<Membership> load_memberships(int64_t user_id, const std::string& generation);
  RedisClient::Args write_through_args(const std::string& room_id,
                                       const std::vector<const StoredMessage*>& rows);
  void write_through(const std::map<std::string, std::vector<const StoredMessage*>>& by_room);
  void cache_room(const std::string& id, const std::optional<RoomInfo>& room);
  std::string ttl(std::chrono::milliseconds base);
  std::string history_key(const std::string& room) const;
  std::string meta_key(const std::string& room) const;
  std::string last_key(const std::string& room) const;
  std::string lock_key(const std::string& room) const;
  std::string room_key(const std::string& id) const;
  std::string membership_key(int64_t user_id) const;
  std::string membership_gen_key(int64_t user_id) const;

  Store& inner_;
  RedisClient& redis_;
  CachedStoreOptions options_;
  mutable std::atomic<uint64_t> hits_{0}, misses_{0}, fills_{0}, room_hits_{0}, room_misses_{0},
      membership_hits_{0}, membership_misses_{0};
};

}  // namespace roomcast
