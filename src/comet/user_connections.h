// The open connections of each user on this comet, oldest first, for the per-user limit of
// docs/protocol.md: past it the user's oldest connection is closed with 4008. Thread-safe: the
// sessions of every I/O loop call it.
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace roomcast {

class ChatSession;
struct CometShard;

class UserConnections {
 public:
  struct Entry {
    uint64_t conn_id = 0;
    CometShard* shard = nullptr;  // the loop the session lives on
    std::weak_ptr<ChatSession> session;
  };

  // Records a new connection of `user_id` and returns the ones it displaces (oldest first)
  // when the user now has more than `max` (0: no limit); those are forgotten here already.
  std::vector<Entry> add(int64_t user_id, Entry entry, std::size_t max);
  // Forgets a connection (no-op when it was displaced already).
  void remove(int64_t user_id, uint64_t conn_id);
  // The connection with this id, if it is open here.
  std::optional<Entry> find(uint64_t conn_id);

 private:
  std::mutex mutex_;
  // Most users have one connection here: it lives in the map node, with no allocation of its
  // own (a deque would take ~600 bytes per user; see issue #15).
  std::unordered_map<int64_t, boost::container::small_vector<Entry, 1>> users_;
  std::unordered_map<uint64_t, int64_t> user_of_;  // connection id -> user
};

}  // namespace roomcast
