// A map with a size bound: touching an entry makes it the newest, and inserting past the bound
// drops the oldest. Rate limiters keep per-key state in it so that a client cycling through
// keys (addresses, emails) cannot grow memory without bound. Not thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace roomcast {

template <class V>
class LruMap {
 public:
  explicit LruMap(std::size_t max_entries) : max_(max_entries < 1 ? 1 : max_entries) {}

  // The entry for `key` (made newest), or nullptr.
  V* find(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // The entry for `key`, inserted as `init` when absent; either way the newest.
  V& get_or_insert(const std::string& key, V init) {
    if (V* v = find(key)) return *v;
    order_.emplace_front(key, std::move(init));
    index_.emplace(key, order_.begin());
    if (order_.size() > max_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return order_.front().second;
  }

  void erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  std::size_t size() const { return index_.size(); }

 private:
  using Entry = std::pair<std::string, V>;
  std::size_t max_;
  std::list<Entry> order_;  // newest first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace roomcast
