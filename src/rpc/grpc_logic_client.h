// The LogicApi of a comet in the distributed mode: every call goes over gRPC to one of the live
// Logic nodes found in the registry (round robin, skipping peers that just failed or whose
// channel is down). Idempotent calls are retried on another Logic with backoff; the others only
// when the request provably never left (the channel was not connected), so a retry never
// creates a second message or room.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "common/log_ids.h"
#include "discovery/node_directory.h"
#include "logic.grpc.pb.h"
#include "logic/logic_api.h"
#include "logic/presence_api.h"
#include "logic/rest_api.h"
#include "rpc/channel_pool.h"
#include "rpc/logic_batcher.h"

namespace roomcast {

// Also the comet's PresenceApi: read positions and member lists are stored by Logic. Any thread
// may call any method; all but post_messages_async block on the RPC (the comet calls them on its
// blocking pool).
class GrpcLogicClient final : public LogicApi, public PresenceApi {
 public:
  struct BatchOptions {
    std::size_t max_events = 128;   // clientMessages events per ReceiveBatch call
    std::size_t max_in_flight = 2;  // ReceiveBatch calls at once (then events pile up)
  };
  GrpcLogicClient(NodeDirectory& logics, ChannelPool& channels, std::string comet_id,
                  BatchOptions batching);
  // Waits for the ReceiveBatch calls in flight (their deadline bounds it).
  ~GrpcLogicClient() override;

  std::optional<User> authenticate(const std::string& sid) override;
  std::vector<RoomInfo> user_rooms(int64_t user_id) override;
  RoomPage room_page(int64_t user_id, const std::string& room_id, uint64_t after_seq,
                     uint64_t before_seq, int limit) override;
  // One HistoryBatch call for all the rooms.
  std::vector<RoomPage> latest_pages(int64_t user_id, const std::vector<std::string>& room_ids,
                                     int limit) override;
  // When `reads` is this client: the pages and the read positions in that one call.
  std::vector<RoomPage> latest_pages_with_reads(int64_t user_id,
                                                const std::vector<std::string>& room_ids, int limit,
                                                PresenceApi& reads) override;
  void post_messages(const User& user, const std::string& room_id,
                     const std::vector<ClientMessage>& messages, TraceId trace) override;
  // Any thread, never blocks: the event joins the comet's next ReceiveBatch call (`blocking` is
  // not used); `done` runs on a gRPC thread.
  void post_messages_async(const User& user, const std::string& room_id,
                           const std::vector<ClientMessage>& messages, TraceId trace,
                           boost::asio::thread_pool& blocking, PostDone done) override;
  RoomInfo create_room(const User& user, const std::string& name, uint64_t conn) override;
  RoomInfo join_room(int64_t user_id, const std::string& room_id, uint64_t conn) override;
  void leave_room(int64_t user_id, const std::string& room_id, uint64_t conn) override;

  std::vector<uint64_t> read_positions(int64_t user_id,
                                       const std::vector<std::string>& room_ids) override;
  ReadState mark_read(int64_t user_id, const std::string& room_id, uint64_t seq) override;
  std::vector<User> room_members(const std::string& room_id, int64_t after_user,
                                 int limit) override;
  int64_t member_count(const std::string& room_id) override;

  // Notices for the other comets (GrpcNoticeRelay); throws when no Logic took them.
  void relay(const logic::RelayRequest& request);

  // The REST API of docs/protocol.md, proxied to a Logic (the comet's /api/* handler).
  HttpResponse rest(const HttpRequest& request);
  // The presence topic: this comet's users, held or released since the last batch (all held
  // ones when `full`). Returns true when Logic asks for a full batch; throws when no Logic
  // took it.
  bool report_users(bool full, const std::vector<std::pair<int64_t, bool>>& users);

 private:
  // A HistoryBatch call: the latest page of each room, and the read positions when asked (an
  // older Logic may leave those out: `positions` is then empty).
  std::vector<RoomPage> history_batch(int64_t user_id, const std::vector<std::string>& room_ids,
                                      int limit, bool with_reads, std::vector<uint64_t>& positions);
  struct Peer {
    std::string id;
    std::shared_ptr<grpc::Channel> channel;
  };
  // One attempt: runs the RPC on `stub` with `ctx` (deadline set) and returns its status.
  using Attempt = std::function<grpc::Status(logic::Logic::Stub& stub, grpc::ClientContext& ctx)>;
  // `ids`: what the call is about, for its failure lines.
  void call(const char* what, bool idempotent, std::chrono::milliseconds deadline,
            const Attempt& attempt, const LogIds& ids = {});
  // A live Logic for this attempt. may_wait: with none known, re-read the registry for up to
  // 2 s (blocking) rather than throwing at once.
  Peer pick(int attempt, bool may_wait = true);
  void mark_bad(const std::string& id);
  class BatchCall;  // one ReceiveBatch call through its attempts (logic_batch_call.cc)
  // The batcher's Send: starts a ReceiveBatch call with these events (never blocks).
  void start_batch(std::vector<BatchedEvent> events);

  NodeDirectory& logics_;
  ChannelPool& channels_;
  std::string comet_id_;
  std::atomic<uint64_t> next_{0};
  std::mutex mutex_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> bad_until_;
  std::chrono::steady_clock::time_point last_retain_{};
  std::unique_ptr<LogicBatcher> batcher_;  // last: destroyed (drained) first
};

}  // namespace roomcast
