#include "rpc/logic_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "domain/message_wire.h"

namespace roomcast {

namespace pb = roomcast::logic;

namespace {

// Runs `f`, mapping a ClientError to FAILED_PRECONDITION with the error in the details (the
// comet rethrows it as a ClientError) and anything else to INTERNAL.
template <class F>
grpc::Status guarded(const char* what, F&& f) {
  try {
    f();
    return grpc::Status::OK;
  } catch (const ClientError& e) {
    pb::ClientError err;
    err.set_code(e.code);
    err.set_message(e.what());
    err.set_retry_after_ms(e.retry_after_ms);
    return {grpc::StatusCode::FAILED_PRECONDITION, e.what(), err.SerializeAsString()};
  } catch (const std::exception& e) {
    spdlog::error("logic service: {} failed: {}", what, e.what());
    return {grpc::StatusCode::INTERNAL, e.what()};
  }
}

void set_room(pb::Room* out, const RoomInfo& r) {
  out->set_id(r.id);
  out->set_name(r.name);
}

User user_of(const pb::User& u) {
  return {u.id(), u.username()};
}

// A clientMessages event, as Receive and ReceiveBatch both take it.
PostEvent post_event_of(const pb::ReceiveRequest& req) {
  PostEvent ev{user_of(req.user()), req.messages().room_id(), {}, {}};
  ev.messages.reserve(static_cast<std::size_t>(req.messages().messages_size()));
  for (auto& m : req.messages().messages()) ev.messages.push_back(client_message_from_wire(m));
  // A comet of an older version sends no trace id: the messages get one here.
  ev.trace = TraceId::parse(req.trace_id()).value_or(TraceId::random());
  return ev;
}

void set_client_error(pb::ReceiveResult* out, const ClientError& e) {
  out->set_outcome(pb::ReceiveResult::CLIENT_ERROR);
  out->mutable_error()->set_code(e.code);
  out->mutable_error()->set_message(e.what());
  out->mutable_error()->set_retry_after_ms(e.retry_after_ms);
}

// The reply's entry of one event from its outcome (null: accepted). Logic logged the failures.
void set_result(pb::ReceiveResult* out, const std::exception_ptr& outcome) {
  if (!outcome) return;  // OK
  try {
    std::rethrow_exception(outcome);
  } catch (const ClientError& e) {
    set_client_error(out, e);
  } catch (const std::exception&) {
    out->set_outcome(pb::ReceiveResult::UNAVAILABLE);
  }
}

}  // namespace

grpc::Status LogicService::Connect(grpc::ServerContext*, const pb::ConnectRequest* req,
                                   pb::ConnectReply* reply) {
  return guarded("Connect", [&] {
    auto user = logic_.authenticate(req->sid());
    reply->set_ok(user.has_value());
    if (user) {
      reply->mutable_user()->set_id(user->id);
      reply->mutable_user()->set_username(user->username);
    }
  });
}

grpc::Status LogicService::Disconnect(grpc::ServerContext*, const pb::DisconnectRequest*,
                                      pb::DisconnectReply*) {
  return grpc::Status::OK;  // sessions outlive connections; nothing to release yet
}

grpc::Status LogicService::Heartbeat(grpc::ServerContext*, const pb::HeartbeatRequest*,
                                     pb::HeartbeatReply*) {
  return grpc::Status::OK;  // liveness for probes; the registry is the source of truth
}

grpc::Status LogicService::Receive(grpc::ServerContext*, const pb::ReceiveRequest* req,
                                   pb::ReceiveReply* reply) {
  return guarded("Receive", [&] {
    auto user = user_of(req->user());
    switch (req->event_case()) {
      case pb::ReceiveRequest::kMessages: {
        auto ev = post_event_of(*req);
        logic_.post_messages(ev.user, ev.room_id, ev.messages, ev.trace);
        break;
      }
      case pb::ReceiveRequest::kCreateRoom:
        set_room(reply->mutable_room(),
                 logic_.create_room(user, req->create_room().name(), req->conn()));
        break;
      case pb::ReceiveRequest::kJoinRoom:
        set_room(reply->mutable_room(),
                 logic_.join_room(user.id, req->join_room().room_id(), req->conn()));
        break;
      case pb::ReceiveRequest::kLeaveRoom:
        logic_.leave_room(user.id, req->leave_room().room_id(), req->conn());
        break;
      default:
        throw ClientError("UNKNOWN_TYPE", "unknown event type");
    }
  });
}

namespace {
// One page of a History or HistoryBatch request.
void fill_page(Logic& logic, const pb::HistoryRequest& req, pb::HistoryReply* reply) {
  auto page =
      logic.room_page(req.user_id(), req.room_id(), req.after_seq(), req.before_seq(), req.limit());
  set_room(reply->mutable_room(), page.room);
  reply->set_has_more(page.has_more);
  messages_to_wire(page.messages, *reply->mutable_messages());
}
}  // namespace

grpc::Status LogicService::History(grpc::ServerContext*, const pb::HistoryRequest* req,
                                   pb::HistoryReply* reply) {
  return guarded("History", [&] { fill_page(logic_, *req, reply); });
}

grpc::Status LogicService::HistoryBatch(grpc::ServerContext*, const pb::HistoryBatchRequest* req,
                                        pb::HistoryBatchReply* reply) {
  return guarded("HistoryBatch", [&] {
    for (auto& page : req->pages()) fill_page(logic_, page, reply->add_pages());
    if (!req->with_read_positions() || req->pages().empty()) return;
    std::vector<std::string> rooms;
    for (auto& page : req->pages()) rooms.push_back(page.room_id());
    for (auto seq : presence_.read_positions(req->pages(0).user_id(), rooms))
      reply->add_last_read_seqs(seq);
  });
}

grpc::Status LogicService::Rooms(grpc::ServerContext*, const pb::RoomsRequest* req,
                                 pb::RoomsReply* reply) {
  return guarded("Rooms", [&] {
    for (auto& r : logic_.user_rooms(req->user_id())) set_room(reply->add_rooms(), r);
  });
}

grpc::Status LogicService::Rest(grpc::ServerContext*, const pb::RestRequest* req,
                                pb::RestReply* reply) {
  return guarded("Rest", [&] {
    // gRPC handler threads may block: the password hash is waited for here.
    auto out = rest_.handle_and_wait({req->method(), req->path(), req->body(), req->cookie(),
                                      req->authorization(), req->query(), req->client_address()});
    reply->set_status(out.status);
    reply->set_body(out.body);
    for (auto& [name, value] : out.headers) {
      auto* h = reply->add_headers();
      h->set_name(name);
      h->set_value(value);
    }
  });
}

grpc::Status LogicService::ReadPositions(grpc::ServerContext*, const pb::ReadPositionsRequest* req,
                                         pb::ReadPositionsReply* reply) {
  return guarded("ReadPositions", [&] {
    std::vector<std::string> rooms(req->room_ids().begin(), req->room_ids().end());
    for (auto seq : presence_.read_positions(req->user_id(), rooms)) reply->add_last_read_seqs(seq);
  });
}

grpc::Status LogicService::MarkRead(grpc::ServerContext*, const pb::MarkReadRequest* req,
                                    pb::MarkReadReply* reply) {
  return guarded("MarkRead", [&] {
    auto state = presence_.mark_read(req->user_id(), req->room_id(), req->seq());
    reply->set_last_read_seq(state.last_read_seq);
    reply->set_unread(state.unread);
  });
}

grpc::Status LogicService::RoomMembers(grpc::ServerContext*, const pb::RoomMembersRequest* req,
                                       pb::RoomMembersReply* reply) {
  return guarded("RoomMembers", [&] {
    // A page is at most a few hundred rows; a comet asking for more is capped here.
    int limit = std::clamp(req->limit(), 1, 1000);
    for (auto& u : presence_.room_members(req->room_id(), req->after_user(), limit)) {
      auto* out = reply->add_members();
      out->set_id(u.id);
      out->set_username(u.username);
    }
  });
}

grpc::Status LogicService::MemberCount(grpc::ServerContext*, const pb::MemberCountRequest* req,
                                       pb::MemberCountReply* reply) {
  return guarded("MemberCount", [&] { reply->set_count(presence_.member_count(req->room_id())); });
}

// One handler call per batch: the events' records are produced together (Logic::post_batch).
grpc::Status LogicService::ReceiveBatch(grpc::ServerContext*, const pb::ReceiveBatchRequest* req,
                                        pb::ReceiveBatchReply* reply) {
  std::vector<PostEvent> events;
  std::vector<pb::ReceiveResult*> results;  // of `events`, in order
  events.reserve(static_cast<std::size_t>(req->events_size()));
  for (auto& ev : req->events()) {
    auto* result = reply->add_results();
    if (ev.event_case() != pb::ReceiveRequest::kMessages) {
      set_client_error(result, ClientError("UNKNOWN_TYPE", "only messages are batched"));
      continue;
    }
    events.push_back(post_event_of(ev));
    results.push_back(result);
  }
  try {
    auto outcomes = logic_.post_batch(events);
    for (std::size_t i = 0; i < outcomes.size(); ++i) set_result(results[i], outcomes[i]);
  } catch (const std::exception& e) {
    spdlog::error("logic service: ReceiveBatch failed: {}", e.what());
    return {grpc::StatusCode::INTERNAL, e.what()};
  }
  return grpc::Status::OK;
}

}  // namespace roomcast
