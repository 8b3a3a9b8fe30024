// A map kept in one vector, for the few entries a connection holds (its rooms): one allocation
// instead of a node per entry and a bucket array, and a linear scan that beats hashing at this
// size. The subset of std::unordered_map's interface that callers use.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

namespace roomcast {

template <class Key, class Value>
class FlatMap {
 public:
  using value_type = std::pair<Key, Value>;
  using iterator = typename std::vector<value_type>::iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  iterator find(const Key& key) {
    return std::find_if(items_.begin(), items_.end(), [&](auto& kv) { return kv.first == key; });
  }
  std::size_t count(const Key& key) { return find(key) == end() ? 0 : 1; }
  Value& operator[](const Key& key) {
    auto it = find(key);
    if (it != end()) return it->second;
    grow_for_one_more();
    return items_.emplace_back(key, Value{}).second;
  }
  std::size_t erase(const Key& key) {
    auto it = find(key);
    if (it == end()) return 0;
    items_.erase(it);
    return 1;
  }
  iterator erase(iterator it) { return items_.erase(it); }
  bool empty() const { return items_.empty(); }
  void clear() {
    items_.clear();
    items_.shrink_to_fit();
  }
  std::size_t size() const { return items_.size(); }

  std::size_t capacity() const { return items_.capacity(); }

 private:
  // Small maps grow one entry at a time: doubling left a user of five rooms paying for eight in
  // each of its maps (issue #15: ~0.4 KiB per connection). Past kExactUpTo entries, by a quarter.
  static constexpr std::size_t kExactUpTo = 8;
  void grow_for_one_more() {
    std::size_t n = items_.size();
    if (n < items_.capacity()) return;
    items_.reserve(n < kExactUpTo ? n + 1 : n + n / 4);
  }

  std::vector<value_type> items_;
};

}  // namespace roomcast
