// The byte formats of the values CachedStore keeps in Redis, apart from the cache logic so
// they can be fuzzed (tests/fuzz) and read in one place. Pure functions, any thread.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"

namespace roomcast {

// One message of a room's recent-history sorted set: a domain.Message protobuf
// (proto/message.proto; the same bytes as the queue.CachedMessage of older versions).
std::string encode_cached_message(const StoredMessage& m);
// False when `bytes` is not a domain.Message; `m` is then unspecified.
bool decode_cached_message(const std::string& room_id, const std::string& bytes, StoredMessage& m);

// A user's memberships: "<generation>\n" then "<room id length>:<room id><0|1>" per row, in
// the inner store's order. The generation tag makes a value written before a change unusable
// after it.
std::string encode_memberships(const std::string& generation,
                               const std::vector<Store::Membership>& rows);
// False when `bytes` is not tagged `generation` or is malformed; `out` is then unspecified.
bool decode_memberships(const std::string& bytes, const std::string& generation,
                        std::vector<Store::Membership>& out);

}  // namespace roomcast
