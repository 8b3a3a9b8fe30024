// Every key roomcast keeps in Redis, in one place (as goim's dao/redis.go): what each holds, its
// type, who writes it and how long it lives. Keys of one room share a hash tag (`{room}`) where
// a script touches several of them, so the scripts also work on a Redis Cluster. A `prefix`
// other than kPrefix only separates tests sharing one server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace roomcast::redis_keys {

inline constexpr std::string_view kPrefix = "rc:";

// Sessions (Logic). String "<user id>:<expires at ms>", PX = session TTL. RedisSessionStore.
std::string session(std::string_view sid, std::string_view prefix = kPrefix);

// Fixed-window counters (Logic): room creations per user, logins and sign-ups per address.
// String counter, PX = the window, set by the first increment. RedisWindowCounters.
std::string window(std::string_view counter, std::string_view prefix = kPrefix);

// Failed logins per account or unknown email (Logic), by a hash of the email so no address is
// readable in Redis. String counter, PX = one minute from the first failure. RedisFailedLogins.
std::string failed_logins(std::string_view email_hash_hex);

// History cache (Job writes, Logic reads). Sorted set of domain.Message scored by seq;
// its meta hash (oldest cached seq, ...); the newest seq; the fill lock. CachedStore.
std::string history(std::string_view room_id, std::string_view prefix = kPrefix);
std::string history_meta(std::string_view room_id, std::string_view prefix = kPrefix);
std::string history_last(std::string_view room_id, std::string_view prefix = kPrefix);
std::string history_lock(std::string_view room_id, std::string_view prefix = kPrefix);
// Cached room rows and a user's membership set with its generation counter (a membership
// change bumps the generation so a reader never caches a stale set). CachedStore.
std::string room(std::string_view room_id, std::string_view prefix = kPrefix);
std::string memberships(int64_t user_id, std::string_view prefix = kPrefix);
std::string memberships_generation(int64_t user_id, std::string_view prefix = kPrefix);

// Node registry (every role). String per node (its addresses, tab-separated) with PX = registry
// TTL, a set of the nodes of each role, and the registry's epoch (changes when Redis lost its
// data). Registry.
std::string node(std::string_view role, std::string_view node_id);
std::string nodes(std::string_view role);
std::string registry_epoch();

// Routes (comets write, Job reads): sorted set of the comets holding a room's members / a user's
// connections, scored by the entry's expiry (ms), refreshed; a comet's mark (gone: the comet
// must re-announce everything); the routes' epoch. RouteRegistry.
std::string room_route(std::string_view room_id);
std::string user_route(int64_t user_id);
std::string route_mark(std::string_view comet_id);
std::string route_epoch();

// Connections per user across comets (comets): sorted set of the user's connections scored by
// open time; a comet's list of connections it must close. RedisUserConnections.
std::string user_connections(int64_t user_id, std::string_view prefix = kPrefix);
std::string evictions(std::string_view comet_id, std::string_view prefix = kPrefix);

// Presence (each comet reports its own users; readers sum). Hash room -> members online on the
// comet; hash user -> that comet's connections (0: in grace); both PX = registry TTL plus the
// grace, and both hold a marker field "~" while the comet reports (gone: lost). Sorted set of
// reporting comets scored with their last report (ms). ClusterPresence.
std::string presence_rooms(std::string_view comet_id);
std::string presence_users(std::string_view comet_id);
std::string presence_comets(std::string_view prefix = kPrefix);

// The presence topic (Logic, only through PresenceEpochs' scripts; no expiry: a comet's set
// goes when it is swept). Set of the user ids a comet holds; set of the comets whose set is in
// step; hash user -> how many comets hold it; hash user -> epoch of its last transition. The
// sweep script also reads presence_comets (not one Redis Cluster slot). PresenceEpochs.
std::string presence_held(std::string_view comet_id, std::string_view prefix = kPrefix);
std::string presence_holders(std::string_view prefix = kPrefix);
std::string presence_holding(std::string_view prefix = kPrefix);
std::string presence_epochs(std::string_view prefix = kPrefix);

}  // namespace roomcast::redis_keys
