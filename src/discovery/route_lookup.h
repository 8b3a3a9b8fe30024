// What Job's gateway needs from the routes: which comets hold a room's members or a user's
// connections. RouteTable reads them from Redis; tests give the gateway an in-memory table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace roomcast {

class RouteLookup {
 public:
  virtual ~RouteLookup() = default;
  // False while the routes may be incomplete (being rebuilt after a loss): callers then send to
  // every live comet. Ask after reading the routes, so a loss during the read shows here.
  // Blocks on I/O; throws when unreadable. One thread at a time.
  virtual bool complete() = 0;
  // For each room / user, the ids of the comets holding it (any order, no duplicates). One
  // round trip; throws when unreadable. One thread at a time.
  virtual std::vector<std::vector<std::string>> rooms(const std::vector<std::string>& room_ids) = 0;
  virtual std::vector<std::vector<std::string>> users(const std::vector<int64_t>& user_ids) = 0;
};

}  // namespace roomcast
