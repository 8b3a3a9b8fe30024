// The seam between Job and Comet: how pushes reach the connections. Two implementations:
// Comet, the local comet (standalone's Job calls it directly; in the distributed mode
// rpc/comet_service.h calls it for Job), and RemoteComets (rpc/remote_comets.h), Job's client
// of the comets' gRPC Comet service in the distributed mode.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/trace_id.h"
#include "domain/message.h"
#include "domain/user.h"

namespace roomcast {

// A run of consecutive messages of one room, with its `serverMessages` event serialised once.
struct RoomMessages {
  std::string room_id;
  std::vector<StoredMessage> messages;  // ascending seq
  std::string event;                    // serverMessages with all of `messages`
  // Per message, the clientMessages event it came from (0: unknown); only Job's side uses it,
  // to never join two events of one sender (comet/room_batches.h). Comets get it empty.
  std::vector<uint64_t> event_ids;
  // Per message, the trace id of its event (zero: none; may be empty), carried to the comets
  // for their logs (comet.proto RoomMessages.trace_ids).
  std::vector<TraceId> trace_ids;
  uint64_t first_seq() const { return messages.front().seq; }
  uint64_t last_seq() const { return messages.back().seq; }
};

// A user joined or left a room. Every connection of that user follows, except `origin_conn`
// (the connection that asked; it got its answer already).
struct MembershipChange {
  int64_t user_id = 0;
  std::string room_id;
  bool joined = false;
  uint64_t origin_conn = 0;
};

// An ephemeral event that one comet delivered to its own connections and relays to the others
// (typing, read state, presence changes). Never stored; one that is lost stays lost.
struct RelayedNotice {
  std::string origin_comet;  // delivered there already: not sent there again
  std::string room_id;
  // Non-empty: `event` to these users' connections that have shown the room (read state).
  // Empty: to the room's member connections except `except_user`'s (typing), or, when `event`
  // is empty, the origin comet's named presence changes for the room's trackers to merge.
  std::vector<int64_t> user_ids;
  int64_t except_user = 0;
  std::string event;
  std::vector<User> joined;
  std::vector<User> left;
  bool is_presence() const { return event.empty(); }
};

class CometPush {
 public:
  virtual ~CometPush() = default;
  virtual void push_room_messages(std::shared_ptr<const RoomMessages> batch) = 0;
  virtual void push_room_event(const std::string& room_id,
                               std::shared_ptr<const std::string> event) = 0;
  // Several events for one room, in order: a gateway that can (Comet) queues them together so
  // each connection writes them in one system call. Defaults to one push each.
  virtual void push_room_events(const std::string& room_id,
                                const std::vector<std::shared_ptr<const std::string>>& events) {
    for (auto& e : events) push_room_event(room_id, e);
  }
  virtual void push_users_event(const std::vector<int64_t>& user_ids,
                                std::shared_ptr<const std::string> event) = 0;
  virtual void broadcast_event(std::shared_ptr<const std::string> event) = 0;
  virtual void sync_membership(const MembershipChange& change) = 0;
  // Only the distributed mode relays notices (standalone's one comet delivered them already).
  // A gateway that wraps another must forward it.
  virtual void relay_notice(std::shared_ptr<const RelayedNotice> /*notice*/) {}
  // Returns once every push made so far is delivered. A gateway that queues pushes to batch
  // them (gRPC) makes Job wait here before its queue offsets are committed.
  virtual void flush() {}
};

}  // namespace roomcast
