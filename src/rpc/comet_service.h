// The Comet gRPC service: what Job calls to deliver pushes to this gateway's connections. Each
// call only hands the event to the I/O loops (Comet's CometPush methods never block), so
// it answers in microseconds; connections drop chat messages they already sent, so a retried
// call is harmless. Never blocking, it uses gRPC's callback API: a call is handled on the
// thread that read it, with no hand-off to a synchronous server thread (issue #12).
#pragma once

#include "comet.grpc.pb.h"
#include "comet/comet.h"

namespace roomcast {

class CometService final : public comet::Comet::CallbackService {
 public:
  explicit CometService(Comet& comet) : comet_(comet) {}

  grpc::ServerUnaryReactor* PushMsg(grpc::CallbackServerContext* ctx,
                                    const comet::PushMsgRequest* req, comet::PushReply*) override;
  grpc::ServerUnaryReactor* BroadcastRoom(grpc::CallbackServerContext* ctx,
                                          const comet::BroadcastRoomRequest* req,
                                          comet::PushReply*) override;
  grpc::ServerUnaryReactor* Broadcast(grpc::CallbackServerContext* ctx,
                                      const comet::BroadcastRequest* req,
                                      comet::PushReply*) override;
  grpc::ServerUnaryReactor* Rooms(grpc::CallbackServerContext* ctx, const comet::RoomsRequest*,
                                  comet::RoomsReply* reply) override;

 private:
  void merge_presence(const std::string& room_id, const comet::PresenceChange& change);
  Comet& comet_;
};

}  // namespace roomcast
