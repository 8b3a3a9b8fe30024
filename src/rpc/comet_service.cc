#include "rpc/comet_service.h"

#include "domain/message_wire.h"

namespace roomcast {

namespace pb = roomcast::comet;

namespace {
// Every method is done when it returns: answer OK on the call's default reactor.
grpc::ServerUnaryReactor* answered(grpc::CallbackServerContext* ctx) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}
}  // namespace

grpc::ServerUnaryReactor* CometService::PushMsg(grpc::CallbackServerContext* ctx,
                                                const pb::PushMsgRequest* req, pb::PushReply*) {
  if (req->has_membership()) {
    auto& m = req->membership();
    for (auto id : req->user_ids())
      comet_.sync_membership({id, m.room_id(), m.joined(), m.origin_conn()});
    return answered(ctx);
  }
  if (!req->notice_room().empty()) {
    for (auto id : req->user_ids())
      comet_.push_user_notice(id, req->notice_room(), req->event(), 0);
    return answered(ctx);
  }
  std::vector<int64_t> ids(req->user_ids().begin(), req->user_ids().end());
  comet_.push_users_event(ids, std::make_shared<const std::string>(req->event()));
  return answered(ctx);
}

grpc::ServerUnaryReactor* CometService::BroadcastRoom(grpc::CallbackServerContext* ctx,
                                                      const pb::BroadcastRoomRequest* req,
                                                      pb::PushReply*) {
  // Chat batches first, in request order: Job lists a room's batches in sequence order and the
  // loops keep the order of what is posted to them.
  for (auto& b : req->batches()) {
    if (b.messages().empty()) continue;
    auto batch = std::make_shared<RoomMessages>();
    batch->room_id = b.room_id();
    batch->event = b.event();
    batch->messages = messages_from_wire(b.messages(), b.room_id());
    batch->trace_ids.reserve(static_cast<std::size_t>(b.trace_ids_size()));
    for (auto t : b.trace_ids()) batch->trace_ids.push_back(TraceId{t});
    comet_.push_room_messages(std::move(batch));
  }
  for (auto& e : req->events()) {
    if (e.has_presence()) {
      merge_presence(e.room_id(), e.presence());
      continue;
    }
    if (e.notice())
      comet_.push_room_notice(e.room_id(), e.event(), e.except_user());
    else
      comet_.push_room_event(e.room_id(), std::make_shared<const std::string>(e.event()));
  }
  return answered(ctx);
}

void CometService::merge_presence(const std::string& room_id, const pb::PresenceChange& change) {
  auto users = [](auto& in) {
    std::vector<User> out;
    out.reserve(static_cast<std::size_t>(in.size()));
    for (auto& u : in) out.push_back({u.id(), u.username()});
    return out;
  };
  comet_.presence_tracker().merge_remote(room_id, change.origin_comet(), users(change.joined()),
                                         users(change.left()));
}

grpc::ServerUnaryReactor* CometService::Broadcast(grpc::CallbackServerContext* ctx,
                                                  const pb::BroadcastRequest* req, pb::PushReply*) {
  comet_.broadcast_event(std::make_shared<const std::string>(req->event()));
  return answered(ctx);
}

grpc::ServerUnaryReactor* CometService::Rooms(grpc::CallbackServerContext* ctx,
                                              const pb::RoomsRequest*, pb::RoomsReply* reply) {
  for (auto& r : comet_.local_rooms()) reply->add_room_ids(r);
  for (auto u : comet_.local_users()) reply->add_user_ids(u);
  reply->set_connections(comet_.connection_count());
  return answered(ctx);
}

}  // namespace roomcast
