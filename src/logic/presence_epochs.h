// Cluster-wide online/offline transitions with per-user epochs (distributed mode; the Kafka
// topic `roomcast.presence`, docs/protocol.md "Presence, typing and read state").
//
// A user is online while some comet holds it (a connection there, or its grace). Each comet's
// holdings are one set in Redis (redis_keys::presence_held), changed only through the scripts
// here, one call per report batch of a comet; presence_holding counts the comets holding each
// user, presence_epochs keeps each user's last epoch, presence_holders names the comets whose
// set is in step (a delta from another is refused: it must send everything).
// The flag flips only when the first comet adds or the last removes a user; each flip sets
// epoch = max(epoch + 1, now in ms) on the Redis clock, so epochs only grow, also after Redis
// lost the hash. A comet silent for the registry TTL plus the grace (its score in
// presence_comets, see ClusterPresence) is swept: its users not held elsewhere go offline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/redis_client.h"
#include "store/redis_keys.h"

namespace roomcast {

struct PresenceTransition {
  int64_t user_id = 0;
  bool online = false;
  int64_t at = 0;  // ms since the epoch, Redis clock
  int64_t epoch = 0;
};

// {"userId","online","at","epoch"}: the record value on the presence topic.
std::string presence_transition_json(const PresenceTransition& t);

// Stateless over Redis: any thread may call any method.
class PresenceEpochs {
 public:
  // `prefix`: redis_keys' (tests use their own).
  explicit PresenceEpochs(RedisClient& redis,
                          std::string prefix = std::string(redis_keys::kPrefix));

  // (user id, held by the comet) pairs. `full`: the comet's whole set (users not named, or
  // named with false, are removed); else a delta. Returns nullopt when a delta comes from a
  // comet whose set is not in step (swept, or Redis lost it): it must send everything.
  using Holdings = std::vector<std::pair<int64_t, bool>>;
  std::optional<std::vector<PresenceTransition>> apply(const std::string& comet, bool full,
                                                       const Holdings& users);

  // Removes the holdings of every comet that did not report for `silence`; returns the
  // transitions (offline of users no other comet holds). Checked again inside the script, so
  // a comet that reported meanwhile is left alone.
  std::vector<PresenceTransition> sweep(std::chrono::milliseconds silence);

 private:
  std::vector<PresenceTransition> sweep_comet(const std::string& comet, int64_t cutoff_ms);

  RedisClient& redis_;
  std::string prefix_;
};

}  // namespace roomcast
