// The Comet gRPC service: what Job calls to deliver pushes to this gateway's connections. Each
// call only hands the event to the I/O loops (Comet's CometPush methods never block), so
// it answers in microseconds; connections drop chat messages they already sent, so a retried
// call is harmless.
#pragma once

#include "comet.grpc.pb.h"
#include "comet/comet.h"

namespace roomcast {

class CometService final : public comet::Comet::Service {
 public:
  explicit CometService(Comet& comet) : comet_(comet) {}

  grpc::Status PushMsg(grpc::ServerContext*, const comet::PushMsgRequest* req,
                       comet::PushReply*) override;
  grpc::Status BroadcastRoom(grpc::ServerContext*, const comet::BroadcastRoomRequest* req,
                             comet::PushReply*) override;
  grpc::Status Broadcast(grpc::ServerContext*, const comet::BroadcastRequest* req,
                         comet::PushReply*) override;
  grpc::Status Rooms(grpc::ServerContext*, const comet::RoomsRequest*,
                     comet::RoomsReply* reply) override;

 private:
  void merge_presence(const std::string& room_id, const comet::PresenceChange& change);
  Comet& comet_;
};

}  // namespace roomcast
