// Room ids known to exist. Rooms are never deleted, so once the store has answered for an id
// the answer holds: Logic checks it on every post without a store round trip (Redis in the
// cluster). Bounded: past `capacity` ids the set starts over (a miss only costs a lookup).
#pragma once

#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_set>

namespace roomcast {

class KnownRooms {
 public:
  explicit KnownRooms(std::size_t capacity = 100000) : capacity_(capacity) {}

  bool contains(const std::string& id) const {
    std::shared_lock lock(mutex_);
    return ids_.count(id) != 0;
  }
  void add(const std::string& id) {
    std::unique_lock lock(mutex_);
    if (ids_.size() >= capacity_) ids_.clear();
    ids_.insert(id);
  }

 private:
  std::size_t capacity_;
  mutable std::shared_mutex mutex_;
  std::unordered_set<std::string> ids_;
};

}  // namespace roomcast
