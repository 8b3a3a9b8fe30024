#include "net/address_connections.h"

namespace roomcast {

std::shared_ptr<const void> AddressConnections::acquire(const std::string& address) {
  {
    std::lock_guard lock(mutex_);
    int& n = open_[address];
    if (n >= limit_) {
      if (n == 0) open_.erase(address);
      return nullptr;
    }
    ++n;
  }
  // The token's deleter gives the slot back; its pointer is only a non-null marker.
  return std::shared_ptr<const void>(this, [this, address](const void*) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(address);
    if (it != open_.end() && --it->second <= 0) open_.erase(it);
  });
}

}  // namespace roomcast
