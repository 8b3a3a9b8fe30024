// GrpcLogicClient as the comet's PresenceApi: read positions and member lists over Logic.
#include "rpc/grpc_logic_client.h"

namespace roomcast {

namespace pb = roomcast::logic;
using namespace std::chrono_literals;

std::vector<uint64_t> GrpcLogicClient::read_positions(int64_t user_id,
                                                      const std::vector<std::string>& room_ids) {
  std::vector<uint64_t> out(room_ids.size(), 0);
  if (room_ids.empty()) return out;
  pb::ReadPositionsRequest req;
  req.set_user_id(user_id);
  for (auto& id : room_ids) req.add_room_ids(id);
  pb::ReadPositionsReply reply;
  call("ReadPositions", true, 3s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.ReadPositions(&ctx, req, &reply);
  });
  // A Logic of another version may answer fewer: those rooms count as never read.
  for (int i = 0; i < reply.last_read_seqs_size() && static_cast<std::size_t>(i) < out.size(); ++i)
    out[static_cast<std::size_t>(i)] = reply.last_read_seqs(i);
  return out;
}

ReadState GrpcLogicClient::mark_read(int64_t user_id, const std::string& room_id, uint64_t seq) {
  pb::MarkReadRequest req;
  req.set_user_id(user_id);
  req.set_room_id(room_id);
  req.set_seq(seq);
  pb::MarkReadReply reply;
  // Forward only: a repeat changes nothing, so the call is idempotent.
  call("MarkRead", true, 3s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.MarkRead(&ctx, req, &reply);
  });
  return {reply.last_read_seq(), reply.unread()};
}

std::vector<User> GrpcLogicClient::room_members(const std::string& room_id, int64_t after_user,
                                                int limit) {
  pb::RoomMembersRequest req;
  req.set_room_id(room_id);
  req.set_after_user(after_user);
  req.set_limit(limit);
  pb::RoomMembersReply reply;
  call("RoomMembers", true, 3s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.RoomMembers(&ctx, req, &reply);
  });
  std::vector<User> out;
  out.reserve(static_cast<std::size_t>(reply.members_size()));
  for (auto& u : reply.members()) out.push_back({u.id(), u.username()});
  return out;
}

int64_t GrpcLogicClient::member_count(const std::string& room_id) {
  pb::MemberCountRequest req;
  req.set_room_id(room_id);
  pb::MemberCountReply reply;
  call("MemberCount", true, 3s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.MemberCount(&ctx, req, &reply);
  });
  return reply.count();
}

bool GrpcLogicClient::report_users(bool full, const std::vector<std::pair<int64_t, bool>>& users) {
  pb::ReportUsersRequest req;
  req.set_comet_id(comet_id_);
  req.set_full(full);
  for (auto& [id, held] : users) {
    if (held)
      req.add_held(id);
    else
      req.add_released(id);
  }
  pb::ReportUsersReply reply;
  // Set operations in Redis: a batch applied twice changes nothing the second time.
  call("ReportUsers", true, 3s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.ReportUsers(&ctx, req, &reply);
  });
  return reply.resync();
}

void GrpcLogicClient::relay(const pb::RelayRequest& req) {
  pb::RelayReply reply;
  // Not idempotent (a repeat shows a typing line twice): retried only when it never left.
  call("Relay", false, 2s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Relay(&ctx, req, &reply);
  });
}

}  // namespace roomcast
