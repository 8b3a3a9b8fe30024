// A push handed to one I/O loop. Pushes wait in the loop's inbox and are taken together by the
// drain's next round, so while a loop is busy fanning out, the next pushes pile up and go out
// with what each connection has waiting, one gathered write per connection instead of one write
// each (batching that adds no delay when the loop is idle; comet/write_rounds.h).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "comet/comet_push.h"
#include "comet/ws_codec.h"
#include "domain/push_kind.h"

namespace roomcast {

struct ShardPush {
  // kRoomNotice / kUserNotice: presence, typing and read-state events, sent only to connections
  // that have shown the room (never before hello), skipping `except_user` / `except_conn`.
  PushKind kind = PushKind::kRoom;
  std::shared_ptr<const RoomMessages> batch;             // kChat
  Frame batch_frame;                                     // kChat: `batch->event`, framed
  std::string room_id;                                   // kRoom, notices
  std::shared_ptr<const std::vector<Frame>> frames;      // kRoom, kUsers, kBroadcast, notices
  std::shared_ptr<const std::vector<int64_t>> user_ids;  // kUsers
  std::shared_ptr<const MembershipChange> membership;    // kMembership
  int64_t except_user = 0;                               // kRoomNotice (0: none)
  uint64_t except_conn = 0;                              // kUserNotice (0: none)
  int64_t pushed_us = 0;  // when it entered the inboxes (wall µs), for the stage metrics
};

// Filled from any thread, drained on the loop. `drain_posted` keeps one drain in flight.
struct PushInbox {
  std::mutex mutex;
  std::vector<ShardPush> pushes;
  bool drain_posted = false;
};

}  // namespace roomcast
