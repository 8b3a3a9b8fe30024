// A comet's side of the presence topic: which of its users it holds (a connection here, or the
// grace after the last one) as they change, kept until a Logic took them. Changes of one user
// merge (the latest wins), so a Logic outage costs one entry per user who changed, and the
// batch sent after it is still exact: Logic applies holdings as set operations.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace roomcast {

class HoldingsOutbox {
 public:
  using Holdings = std::vector<std::pair<int64_t, bool>>;
  // Sends one batch (`full`: every held user); returns true when Logic asks for a full batch.
  // Throws when it could not be sent.
  using Send = std::function<bool(bool full, const Holdings& users)>;

  explicit HoldingsOutbox(Send send) : send_(std::move(send)) {}

  // The ClusterPresence report thread. A tracker report's users: connections >= 0 held,
  // -1 released. `full`: the report names every user held here (what was pending is replaced).
  void add(bool full, const std::vector<std::pair<int64_t, int64_t>>& users);
  // The ClusterPresence outbox thread (one caller at a time). Sends what is pending (an empty batch
  // too: Logic then checks that this comet is still in step). True when the next report must be
  // full. Throws when the send failed; the batch is kept for the next call.
  bool flush();

 private:
  Send send_;
  std::mutex mutex_;  // guards pending_ and full_ (never held while sending)
  std::unordered_map<int64_t, bool> pending_;
  bool full_ = false;
};

}  // namespace roomcast
