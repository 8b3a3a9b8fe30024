// A LogicApi for tests that need one but use little or none of it: every call throws, and a
// test overrides only what it uses (unit and infra tests share it).
#pragma once

#include <stdexcept>

#include "logic/logic_api.h"

namespace roomcast::test {

class UnusedLogicApi : public LogicApi {
 public:
  std::optional<User> authenticate(const std::string&) override { unused(); }
  std::vector<RoomInfo> user_rooms(int64_t) override { unused(); }
  RoomPage room_page(int64_t, const std::string&, uint64_t, uint64_t, int) override { unused(); }
  void post_messages(const User&, const std::string&, const std::vector<ClientMessage>&,
                     TraceId) override {
    unused();
  }
  RoomInfo create_room(const User&, const std::string&, uint64_t) override { unused(); }
  RoomInfo join_room(int64_t, const std::string&, uint64_t) override { unused(); }
  void leave_room(int64_t, const std::string&, uint64_t) override { unused(); }

 protected:
  [[noreturn]] static void unused() { throw std::logic_error("not used by this test"); }
};

}  // namespace roomcast::test
