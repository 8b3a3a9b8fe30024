// The Logic gRPC service: the business layer (Logic, RestApi) offered to comets. Runs on gRPC's
// synchronous server threads, which may block on storage like the blocking pool in standalone.
#pragma once

#include "logic.grpc.pb.h"
#include "logic/logic.h"
#include "logic/presence_api.h"
#include "logic/presence_topic.h"
#include "logic/rest_api.h"

namespace roomcast {

class LogicService final : public logic::Logic::Service {
 public:
  LogicService(Logic& logic, RestApi& rest, PresenceApi& presence)
      : logic_(logic), rest_(rest), presence_(presence) {}

  grpc::Status Connect(grpc::ServerContext*, const logic::ConnectRequest* req,
                       logic::ConnectReply* reply) override;
  grpc::Status Disconnect(grpc::ServerContext*, const logic::DisconnectRequest* req,
                          logic::DisconnectReply* reply) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const logic::HeartbeatRequest* req,
                         logic::HeartbeatReply* reply) override;
  grpc::Status Receive(grpc::ServerContext*, const logic::ReceiveRequest* req,
                       logic::ReceiveReply* reply) override;
  grpc::Status History(grpc::ServerContext*, const logic::HistoryRequest* req,
                       logic::HistoryReply* reply) override;
  grpc::Status HistoryBatch(grpc::ServerContext*, const logic::HistoryBatchRequest* req,
                            logic::HistoryBatchReply* reply) override;
  grpc::Status Rooms(grpc::ServerContext*, const logic::RoomsRequest* req,
                     logic::RoomsReply* reply) override;
  grpc::Status Rest(grpc::ServerContext*, const logic::RestRequest* req,
                    logic::RestReply* reply) override;
  grpc::Status ReadPositions(grpc::ServerContext*, const logic::ReadPositionsRequest* req,
                             logic::ReadPositionsReply* reply) override;
  grpc::Status MarkRead(grpc::ServerContext*, const logic::MarkReadRequest* req,
                        logic::MarkReadReply* reply) override;
  grpc::Status RoomMembers(grpc::ServerContext*, const logic::RoomMembersRequest* req,
                           logic::RoomMembersReply* reply) override;
  grpc::Status MemberCount(grpc::ServerContext*, const logic::MemberCountRequest* req,
                           logic::MemberCountReply* reply) override;
  // The presence topic (rpc/logic_service_presence.cc); without a topic the batches are dropped.
  grpc::Status ReportUsers(grpc::ServerContext*, const logic::ReportUsersRequest* req,
                           logic::ReportUsersReply* reply) override;
  // Before serving.
  void set_presence_topic(PresenceTopic* topic) { presence_topic_ = topic; }
  // logic_relay.cc
  grpc::Status Relay(grpc::ServerContext*, const logic::RelayRequest* req,
                     logic::RelayReply* reply) override;
  // Many comets' clientMessages events in one call; one result per event, in order.
  grpc::Status ReceiveBatch(grpc::ServerContext*, const logic::ReceiveBatchRequest* req,
                            logic::ReceiveBatchReply* reply) override;

 private:
  Logic& logic_;
  RestApi& rest_;
  PresenceApi& presence_;
  PresenceTopic* presence_topic_ = nullptr;
};

}  // namespace roomcast
