// The seam between Comet and Logic: what a gateway asks of the business layer. Standalone calls
// Logic directly; the distributed mode calls it over gRPC. Calls may block (storage), so Comet
// makes them off its I/O loops.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/trace_id.h"
#include "domain/client_error.h"
#include "domain/message.h"
#include "domain/room.h"
#include "domain/room_page.h"
#include "domain/user.h"

namespace boost::asio {
class thread_pool;
}

namespace roomcast {

class PresenceApi;

constexpr uint64_t kNoSeq = UINT64_MAX;  // "before the end": the latest page

// How an asynchronous post ended: null once the queue holds the messages, else a ClientError
// (answered with serverError) or another exception (the post failed: INTERNAL, as a failed
// synchronous call). Called exactly once, on any thread.
using PostDone = std::function<void(std::exception_ptr)>;

class LogicApi {
 public:
  virtual ~LogicApi() = default;
  // The user of a live session, or nullopt (missing, expired or revoked).
  virtual std::optional<User> authenticate(const std::string& sid) = 0;
  // The user's rooms in display order: default rooms first, then joined/created ones.
  virtual std::vector<RoomInfo> user_rooms(int64_t user_id) = 0;
  // Messages with after_seq < seq < before_seq, newest first, at most `limit`; has_more says
  // whether older ones remain in that range. Checks membership.
  virtual RoomPage room_page(int64_t user_id, const std::string& room_id, uint64_t after_seq,
                             uint64_t before_seq, int limit) = 0;
  // The latest page (at most `limit`) of each room, in order: hello and joins. Throws when one
  // fails. This default asks room_page per room; the distributed comet makes one call of it.
  virtual std::vector<RoomPage> latest_pages(int64_t user_id,
                                             const std::vector<std::string>& room_ids, int limit);
  // latest_pages with each page's `last_read_seq` set to the user's read position in its room
  // (from `reads`; 0: never read), for hello and joins. This default asks `reads` after the
  // pages; the distributed comet, whose client is both, makes one call of the two.
  virtual std::vector<RoomPage> latest_pages_with_reads(int64_t user_id,
                                                        const std::vector<std::string>& room_ids,
                                                        int limit, PresenceApi& reads);
  // Validates and accepts messages (returns once the queue holds them). `trace` names the event
  // in every layer's logs (common/trace_id.h).
  virtual void post_messages(const User& user, const std::string& room_id,
                             const std::vector<ClientMessage>& messages, TraceId trace) = 0;
  // post_messages without blocking the caller (any thread, e.g. an I/O loop): `done` gets the
  // outcome. This default runs post_messages on `blocking` (standalone); the distributed comet
  // batches many connections' events into one call instead (GrpcLogicClient).
  virtual void post_messages_async(const User& user, const std::string& room_id,
                                   const std::vector<ClientMessage>& messages, TraceId trace,
                                   boost::asio::thread_pool& blocking, PostDone done);
  // Membership changes. `conn` names the asking connection: the user's other connections
  // follow the change through the queue (MembershipChange), that one is answered directly.
  virtual RoomInfo create_room(const User& user, const std::string& name, uint64_t conn) = 0;
  virtual RoomInfo join_room(int64_t user_id, const std::string& room_id, uint64_t conn) = 0;
  virtual void leave_room(int64_t user_id, const std::string& room_id, uint64_t conn) = 0;
};

// Sets each page's `last_read_seq` from `positions` (same order; missing ones: 0, never read).
void set_read_positions(std::vector<RoomPage>& pages, const std::vector<uint64_t>& positions);

}  // namespace roomcast
