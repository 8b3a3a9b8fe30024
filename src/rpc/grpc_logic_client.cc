#include "rpc/grpc_logic_client.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "domain/message_wire.h"

namespace roomcast {

namespace pb = roomcast::logic;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr int kAttempts = 3;
constexpr auto kBadFor = 3s;  // how long a failed peer is avoided (the registry drops it in ~3 s)

RoomPage page_of(const pb::HistoryReply& reply) {
  RoomPage page;
  page.room = {reply.room().id(), reply.room().name()};
  page.has_more = reply.has_more();
  page.messages = messages_from_wire(reply.messages(), page.room.id);
  return page;
}

void set_user(pb::User* out, const User& u) {
  out->set_id(u.id);
  out->set_username(u.username);
}

}  // namespace

GrpcLogicClient::GrpcLogicClient(NodeDirectory& logics, ChannelPool& channels, std::string comet_id,
                                 BatchOptions batching)
    : logics_(logics), channels_(channels), comet_id_(std::move(comet_id)) {
  batcher_ = std::make_unique<LogicBatcher>(
      batching.max_events, batching.max_in_flight,
      [this](std::vector<BatchedEvent> events) { start_batch(std::move(events)); });
}

// batcher_, the last member, is destroyed first: it waits for the calls in flight, which use
// the other members.
GrpcLogicClient::~GrpcLogicClient() = default;

void GrpcLogicClient::mark_bad(const std::string& id) {
  std::lock_guard lock(mutex_);
  bad_until_[id] = Clock::now() + kBadFor;
}

GrpcLogicClient::Peer GrpcLogicClient::pick(int attempt, bool may_wait) {
  auto nodes = logics_.nodes();
  // Just started, or every Logic is restarting: ask the registry again for a moment.
  for (int i = 0; may_wait && nodes.empty() && i < 10; ++i) {
    if (i > 0) std::this_thread::sleep_for(200ms);
    try {
      logics_.refresh();
    } catch (const std::exception& e) {
      spdlog::warn("logic client: registry unreadable: {}", e.what());
    }
    nodes = logics_.nodes();
  }
  if (nodes.empty()) throw std::runtime_error("no Logic node is registered");
  auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    if (now - last_retain_ > 2s) {
      last_retain_ = now;
      std::vector<std::string> addrs;
      for (auto& n : nodes) addrs.push_back(n.address);
      channels_.retain(addrs);
      std::erase_if(bad_until_, [&](auto& kv) { return kv.second < now; });
    }
  }
  // Round robin, preferring peers that neither failed lately nor have a broken channel.
  uint64_t start = next_++;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      auto& n = nodes[(start + i + static_cast<uint64_t>(attempt)) % nodes.size()];
      auto ch = channels_.get(n.address);
      if (pass == 0) {
        std::lock_guard lock(mutex_);
        auto bad = bad_until_.find(n.id);
        if (bad != bad_until_.end() && bad->second > now) continue;
        if (ch->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) continue;
      }
      return {n.id, ch};
    }
  }
  auto& n = nodes[start % nodes.size()];
  return {n.id, channels_.get(n.address)};
}

void GrpcLogicClient::call(const char* what, bool idempotent, std::chrono::milliseconds deadline,
                           const Attempt& attempt, const LogIds& ids) {
  grpc::Status status;
  for (int i = 0; i < kAttempts; ++i) {
    if (i > 0) std::this_thread::sleep_for(50ms * (1 << (i - 1)));
    auto peer = pick(i);
    // A request on a channel that was not connected fails before it is sent: safe to retry.
    bool was_ready = peer.channel->GetState(true) == GRPC_CHANNEL_READY;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    auto stub = pb::Logic::NewStub(peer.channel);
    status = attempt(*stub, ctx);
    if (status.ok()) return;
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      pb::ClientError err;
      if (err.ParseFromString(status.error_details()))
        throw ClientError(err.code(), err.message(), err.retry_after_ms());
      throw ClientError("BAD_REQUEST", status.error_message());
    }
    bool unavailable = status.error_code() == grpc::StatusCode::UNAVAILABLE;
    if (unavailable || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      mark_bad(peer.id);
    bool retry = idempotent
                     ? (unavailable || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
                     : (unavailable && !was_ready);
    log_ids(spdlog::level::warn, ids, "logic client: {} on {} failed ({}: {}){}", what, peer.id,
            static_cast<int>(status.error_code()), status.error_message(),
            retry && i + 1 < kAttempts ? ", retrying" : "");
    if (!retry) break;
  }
  throw std::runtime_error(std::string(what) + " failed: " + status.error_message());
}

std::optional<User> GrpcLogicClient::authenticate(const std::string& sid) {
  pb::ConnectRequest req;
  req.set_sid(sid);
  req.set_comet_id(comet_id_);
  pb::ConnectReply reply;
  call("Connect", true, 3s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Connect(&ctx, req, &reply);
  });
  if (!reply.ok()) return std::nullopt;
  return User{reply.user().id(), reply.user().username()};
}

std::vector<RoomInfo> GrpcLogicClient::user_rooms(int64_t user_id) {
  pb::RoomsRequest req;
  req.set_user_id(user_id);
  pb::RoomsReply reply;
  call("Rooms", true, 3s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Rooms(&ctx, req, &reply);
  });
  std::vector<RoomInfo> out;
  for (auto& r : reply.rooms()) out.push_back({r.id(), r.name()});
  return out;
}

RoomPage GrpcLogicClient::room_page(int64_t user_id, const std::string& room_id, uint64_t after_seq,
                                    uint64_t before_seq, int limit) {
  pb::HistoryRequest req;
  req.set_user_id(user_id);
  req.set_room_id(room_id);
  req.set_after_seq(after_seq);
  req.set_before_seq(before_seq);
  req.set_limit(limit);
  pb::HistoryReply reply;
  call("History", true, 5s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.History(&ctx, req, &reply);
  });
  return page_of(reply);
}

std::vector<RoomPage> GrpcLogicClient::history_batch(int64_t user_id,
                                                     const std::vector<std::string>& room_ids,
                                                     int limit, bool with_reads,
                                                     std::vector<uint64_t>& positions) {
  pb::HistoryBatchRequest req;
  for (auto& id : room_ids) {
    auto* page = req.add_pages();
    page->set_user_id(user_id);
    page->set_room_id(id);
    page->set_after_seq(0);
    page->set_before_seq(kNoSeq);
    page->set_limit(limit);
  }
  req.set_with_read_positions(with_reads);
  pb::HistoryBatchReply reply;
  call("HistoryBatch", true, 5s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.HistoryBatch(&ctx, req, &reply);
  });
  if (reply.pages_size() != req.pages_size())
    throw std::runtime_error("HistoryBatch answered a different number of pages");
  std::vector<RoomPage> pages;
  pages.reserve(room_ids.size());
  for (auto& p : reply.pages()) pages.push_back(page_of(p));
  positions.assign(reply.last_read_seqs().begin(), reply.last_read_seqs().end());
  return pages;
}

std::vector<RoomPage> GrpcLogicClient::latest_pages(int64_t user_id,
                                                    const std::vector<std::string>& room_ids,
                                                    int limit) {
  std::vector<uint64_t> unused;
  return history_batch(user_id, room_ids, limit, false, unused);
}

std::vector<RoomPage> GrpcLogicClient::latest_pages_with_reads(
    int64_t user_id, const std::vector<std::string>& room_ids, int limit, PresenceApi& reads) {
  if (&reads != static_cast<PresenceApi*>(this))
    return LogicApi::latest_pages_with_reads(user_id, room_ids, limit, reads);
  std::vector<uint64_t> positions;
  auto pages = history_batch(user_id, room_ids, limit, true, positions);
  // A Logic from before the combined call answers the pages only: ask for the positions.
  if (positions.size() != pages.size() && !pages.empty())
    positions = read_positions(user_id, room_ids);
  set_read_positions(pages, positions);
  return pages;
}

void GrpcLogicClient::post_messages(const User& user, const std::string& room_id,
                                    const std::vector<ClientMessage>& messages, TraceId trace) {
  pb::ReceiveRequest req;
  set_user(req.mutable_user(), user);
  if (trace) req.set_trace_id(trace.to_string());
  auto* body = req.mutable_messages();
  body->set_room_id(room_id);
  bool all_keyed = !messages.empty();
  for (auto& m : messages) {
    client_message_to_wire(m, *body->add_messages());
    all_keyed = all_keyed && !m.client_id.empty();
  }
  // With a client id on every message a repeat is dropped by Job: the call is idempotent.
  pb::ReceiveReply reply;
  call(
      "Receive(messages)", all_keyed, 5s,
      [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
        return stub.Receive(&ctx, req, &reply);
      },
      LogIds().user(user.id).room(room_id).trace(trace));
}

void GrpcLogicClient::post_messages_async(const User& user, const std::string& room_id,
                                          const std::vector<ClientMessage>& messages, TraceId trace,
                                          boost::asio::thread_pool&, PostDone done) {
  BatchedEvent ev;
  set_user(ev.request.mutable_user(), user);
  if (trace) ev.request.set_trace_id(trace.to_string());
  auto* body = ev.request.mutable_messages();
  body->set_room_id(room_id);
  ev.keyed = !messages.empty();
  for (auto& m : messages) {
    client_message_to_wire(m, *body->add_messages());
    ev.keyed = ev.keyed && !m.client_id.empty();
  }
  ev.done = std::move(done);
  batcher_->add(std::move(ev));
}

RoomInfo GrpcLogicClient::create_room(const User& user, const std::string& name, uint64_t conn) {
  pb::ReceiveRequest req;
  req.set_conn(conn);
  set_user(req.mutable_user(), user);
  req.mutable_create_room()->set_name(name);
  pb::ReceiveReply reply;
  call("Receive(createRoom)", false, 5s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Receive(&ctx, req, &reply);
  });
  return {reply.room().id(), reply.room().name()};
}

RoomInfo GrpcLogicClient::join_room(int64_t user_id, const std::string& room_id, uint64_t conn) {
  pb::ReceiveRequest req;
  req.set_conn(conn);
  req.mutable_user()->set_id(user_id);
  req.mutable_join_room()->set_room_id(room_id);
  pb::ReceiveReply reply;
  call("Receive(joinRoom)", true, 5s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Receive(&ctx, req, &reply);
  });
  return {reply.room().id(), reply.room().name()};
}

void GrpcLogicClient::leave_room(int64_t user_id, const std::string& room_id, uint64_t conn) {
  pb::ReceiveRequest req;
  req.set_conn(conn);
  req.mutable_user()->set_id(user_id);
  req.mutable_leave_room()->set_room_id(room_id);
  pb::ReceiveReply reply;
  // Not idempotent for the client: a repeat would answer NOT_MEMBER.
  call("Receive(leaveRoom)", false, 5s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Receive(&ctx, req, &reply);
  });
}

HttpResponse GrpcLogicClient::rest(const HttpRequest& r) {
  pb::RestRequest req;
  req.set_method(r.method);
  req.set_path(r.path);
  req.set_body(r.body);
  req.set_cookie(r.cookie);
  req.set_authorization(r.authorization);
  req.set_query(r.query);
  req.set_client_address(r.client_address);
  pb::RestReply reply;
  bool safe = r.method == "GET" || r.method == "HEAD";
  try {
    call("Rest", safe, 15s, [&](pb::Logic::Stub& stub, grpc::ClientContext& ctx) {
      return stub.Rest(&ctx, req, &reply);
    });
  } catch (const std::exception& e) {
    spdlog::error("comet: REST {} {} could not reach Logic: {}", r.method, r.path, e.what());
    return api_error(503, "UNAVAILABLE", "the service is temporarily unavailable; retry");
  }
  HttpResponse out;
  out.status = reply.status();
  out.body = reply.body();
  for (auto& h : reply.headers()) out.headers.emplace_back(h.name(), h.value());
  return out;
}

}  // namespace roomcast
