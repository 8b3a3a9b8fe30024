// Open connections per client address (docs/protocol.md: 1,000, then 429 before the upgrade). An
// entry lives exactly as long as connections from its address are open, so the table is
// bounded by the open connections.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace roomcast {

class AddressConnections {
 public:
  explicit AddressConnections(int limit) : limit_(limit) {}

  // A slot for one more connection from `address`, held until the returned token is destroyed;
  // nullptr when the address already has `limit` open. Thread-safe; the token may be destroyed
  // on any thread, but not after this object.
  std::shared_ptr<const void> acquire(const std::string& address);

 private:
  int limit_;
  std::mutex mutex_;
  std::unordered_map<std::string, int> open_;
};

}  // namespace roomcast
