#include "comet/user_connections.h"

#include <algorithm>

namespace roomcast {

std::vector<UserConnections::Entry> UserConnections::add(int64_t user_id, Entry entry,
                                                         std::size_t max) {
  std::vector<Entry> displaced;
  std::lock_guard lock(mutex_);
  auto& conns = users_[user_id];
  user_of_[entry.conn_id] = user_id;
  conns.push_back(std::move(entry));
  if (max > 0 && conns.size() > max) {
    auto excess = static_cast<std::ptrdiff_t>(conns.size() - max);
    for (auto it = conns.begin(); it != conns.begin() + excess; ++it) {
      user_of_.erase(it->conn_id);
      displaced.push_back(std::move(*it));
    }
    conns.erase(conns.begin(), conns.begin() + excess);
  }
  return displaced;
}

std::optional<UserConnections::Entry> UserConnections::find(uint64_t conn_id) {
  std::lock_guard lock(mutex_);
  auto user = user_of_.find(conn_id);
  if (user == user_of_.end()) return std::nullopt;
  auto it = users_.find(user->second);
  if (it == users_.end()) return std::nullopt;
  for (auto& e : it->second)
    if (e.conn_id == conn_id) return e;
  return std::nullopt;
}

void UserConnections::remove(int64_t user_id, uint64_t conn_id) {
  std::lock_guard lock(mutex_);
  user_of_.erase(conn_id);
  auto it = users_.find(user_id);
  if (it == users_.end()) return;
  auto& conns = it->second;
  auto pos = std::find_if(conns.begin(), conns.end(),
                          [conn_id](const Entry& e) { return e.conn_id == conn_id; });
  if (pos != conns.end()) conns.erase(pos);
  if (conns.empty())
    users_.erase(it);
  else if (conns.size() == 1 && conns.capacity() > 1)
    conns.shrink_to_fit();  // back into the map node
}

}  // namespace roomcast
