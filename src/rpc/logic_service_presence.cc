// LogicService: a comet's report batch for the presence topic.
#include <spdlog/spdlog.h>

#include "rpc/logic_service.h"

namespace roomcast {

namespace pb = roomcast::logic;

grpc::Status LogicService::ReportUsers(grpc::ServerContext*, const pb::ReportUsersRequest* req,
                                       pb::ReportUsersReply* reply) {
  if (!presence_topic_) return grpc::Status::OK;
  if (req->comet_id().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "no comet id"};
  PresenceEpochs::Holdings users;
  users.reserve(static_cast<std::size_t>(req->held_size() + req->released_size()));
  for (auto id : req->held()) users.emplace_back(id, true);
  for (auto id : req->released()) users.emplace_back(id, false);
  try {
    reply->set_resync(!presence_topic_->report(req->comet_id(), req->full(), users));
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    spdlog::warn("logic service: ReportUsers of {} failed: {}", req->comet_id(), e.what());
    return {grpc::StatusCode::UNAVAILABLE, e.what()};
  }
}

}  // namespace roomcast
