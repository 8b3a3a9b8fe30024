#include "rpc/remote_comets.h"

#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "comet.grpc.pb.h"
#include "common/events.h"
#include "common/log_ids.h"
#include "discovery/registry.h"
#include "domain/message_wire.h"
#include "rpc/remote_comets_merge.h"

namespace roomcast {

namespace pb = roomcast::comet;
using namespace std::chrono_literals;

namespace {

constexpr int kAttempts = 3;
constexpr auto kDeadline = 2s;

// One RPC to one comet, and its state while in flight.
struct Outgoing {
  enum class Method { kBroadcastRoom, kPushMsg, kBroadcast } method;  // which Comet RPC
  std::string comet_id;
  std::string address;
  pb::BroadcastRoomRequest room;
  pb::PushMsgRequest users;
  pb::BroadcastRequest broadcast;

  std::unique_ptr<pb::Comet::Stub> stub;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::PushReply>> rpc;
  pb::PushReply reply;
  grpc::Status status;
};

void to_pb(const RoomMessages& in, pb::RoomMessages& out) {
  out.set_room_id(in.room_id);
  out.set_event(in.event);
  messages_to_wire(in.messages, *out.mutable_messages());
  if (!in.trace_ids.empty())
    for (std::size_t i = 0; i < in.messages.size(); ++i)
      out.add_trace_ids(i < in.trace_ids.size() ? in.trace_ids[i].value : 0);
}

// The trace ids of the chat messages a call carries, for its failure lines.
std::vector<TraceId> call_traces(const Outgoing& c) {
  std::vector<TraceId> traces;
  if (c.method == Outgoing::Method::kBroadcastRoom)
    for (auto& b : c.room.batches())
      for (auto t : b.trace_ids()) traces.push_back(TraceId{t});
  return traces;
}

std::vector<TraceId> batch_traces(const std::vector<std::shared_ptr<const RoomMessages>>& batches) {
  std::vector<TraceId> traces;
  for (auto& b : batches) traces.insert(traces.end(), b->trace_ids.begin(), b->trace_ids.end());
  return traces;
}

void set_user(pb::PresenceUser* out, const User& u) {
  out->set_id(u.id);
  out->set_username(u.username);
}

// Sends every call at once over the completion queue and waits for all of them.
void send_round(ChannelPool& channels, std::vector<Outgoing*>& calls) {
  grpc::CompletionQueue cq;
  for (auto* c : calls) {
    c->stub = pb::Comet::NewStub(channels.get(c->address));
    c->ctx = std::make_unique<grpc::ClientContext>();
    c->ctx->set_deadline(std::chrono::system_clock::now() + kDeadline);
    switch (c->method) {
      case Outgoing::Method::kBroadcastRoom:
        c->rpc = c->stub->PrepareAsyncBroadcastRoom(c->ctx.get(), c->room, &cq);
        break;
      case Outgoing::Method::kPushMsg:
        c->rpc = c->stub->PrepareAsyncPushMsg(c->ctx.get(), c->users, &cq);
        break;
      case Outgoing::Method::kBroadcast:
        c->rpc = c->stub->PrepareAsyncBroadcast(c->ctx.get(), c->broadcast, &cq);
        break;
    }
    c->rpc->StartCall();
    c->rpc->Finish(&c->reply, &c->status, c);
  }
  void* tag = nullptr;
  bool ok = false;
  for (std::size_t n = 0; n < calls.size() && cq.Next(&tag, &ok); ++n) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

bool names_unknown_comet(const std::vector<NodeInfo>& nodes,
                         const std::vector<std::vector<std::string>>& routes) {
  for (auto& comets : routes)
    for (auto& id : comets)
      if (std::none_of(nodes.begin(), nodes.end(), [&](auto& n) { return n.id == id; }))
        return true;
  return false;
}

}  // namespace

RemoteComets::RemoteComets(RedisClient& redis, NodeDirectory& comets, RouteLookup& routes,
                           ChannelPool& channels, int window_ms)
    : redis_(redis), comets_(comets), channels_(channels), routes_(routes), window_ms_(window_ms) {}

RemoteComets::~RemoteComets() {
  stop();
}

void RemoteComets::start() {
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void RemoteComets::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RemoteComets::enqueue(Item item) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(item));
    ++enqueued_;
  }
  wake_.notify_one();
}

void RemoteComets::push_room_messages(std::shared_ptr<const RoomMessages> batch) {
  enqueue({PushKind::kChat, std::move(batch), {}, {}, {}, {}, {}});
}

void RemoteComets::push_room_event(const std::string& room_id,
                                   std::shared_ptr<const std::string> event) {
  enqueue({PushKind::kRoom, {}, room_id, {}, std::move(event), {}, {}});
}

void RemoteComets::push_users_event(const std::vector<int64_t>& user_ids,
                                    std::shared_ptr<const std::string> event) {
  enqueue({PushKind::kUsers, {}, {}, user_ids, std::move(event), {}, {}});
}

void RemoteComets::broadcast_event(std::shared_ptr<const std::string> event) {
  enqueue({PushKind::kBroadcast, {}, {}, {}, std::move(event), {}, {}});
}

void RemoteComets::sync_membership(const MembershipChange& change) {
  enqueue({PushKind::kMembership, {}, {}, {change.user_id}, {}, change, {}});
}

void RemoteComets::relay_notice(std::shared_ptr<const RelayedNotice> notice) {
  auto kind = notice->user_ids.empty() ? PushKind::kRoomNotice : PushKind::kUserNotice;
  enqueue({kind, {}, {}, {}, {}, {}, std::move(notice)});
}

void RemoteComets::flush() {
  std::unique_lock lock(mutex_);
  uint64_t target = enqueued_;
  ++flushing_;  // the flusher stops lingering: this batch is complete
  wake_.notify_all();
  done_.wait(lock, [&] { return delivered_ >= target || !running_; });
  --flushing_;
}

void RemoteComets::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping and drained
    if (!stopping_ && window_ms_ > 0 && flushing_ == 0) {
      // Linger so that the rest of a batch being pushed shares the RPCs, until Job's flush()
      // says the batch is complete (at once on the busy path: Job flushes every batch).
      wake_.wait_for(lock, std::chrono::milliseconds(window_ms_),
                     [this] { return stopping_ || flushing_ > 0; });
    }
    std::vector<Item> items(std::make_move_iterator(queue_.begin()),
                            std::make_move_iterator(queue_.end()));
    queue_.clear();
    lock.unlock();
    auto n = items.size();
    try {
      deliver(std::move(items));
    } catch (const std::exception& e) {
      // Never let the flusher die: Job would wait in flush() forever.
      spdlog::error("job: push round failed: {}", e.what());
    }
    lock.lock();
    delivered_ += n;
    done_.notify_all();
  }
  delivered_ = enqueued_;
  running_ = false;
  done_.notify_all();
}

// What one round sends where. Filled by deliver()'s phases in order.
struct RemoteComets::Plan {
  std::vector<std::shared_ptr<const RoomMessages>> batches;  // chat, per room in order
  std::vector<std::string> rooms;  // every room a chat batch or room event goes to
  std::vector<int64_t> users;
  std::unordered_map<std::string, std::size_t> room_index;
  std::unordered_map<int64_t, std::size_t> user_index;
  std::vector<std::vector<std::string>> room_routes, user_routes;  // comet ids per room / user
  std::vector<NodeInfo> nodes;                                     // live comets
  std::unordered_map<std::string, std::string> live;               // comet id -> address
  std::vector<std::unique_ptr<Outgoing>> calls;
  std::unordered_map<std::string, Outgoing*> room_call;  // comet id -> its BroadcastRoom

  void note_room(const std::string& r) {
    if (room_index.emplace(r, rooms.size()).second) rooms.push_back(r);
  }
  void note_users(const std::vector<int64_t>& ids) {
    for (auto u : ids)
      if (user_index.emplace(u, users.size()).second) users.push_back(u);
  }
  Outgoing* new_call(Outgoing::Method method, const std::string& comet,
                     const std::string& address) {
    calls.push_back(std::make_unique<Outgoing>());
    auto* c = calls.back().get();
    c->method = method;
    c->comet_id = comet;
    c->address = address;
    return c;
  }
  // The BroadcastRoom call to `comet`, or nullptr for a stale route of a comet that left.
  Outgoing* room_call_for(const std::string& comet) {
    auto addr = live.find(comet);
    if (addr == live.end()) return nullptr;
    auto& c = room_call[comet];
    if (!c) c = new_call(Outgoing::Method::kBroadcastRoom, comet, addr->second);
    return c;
  }
};

void RemoteComets::add_users_calls(Plan& plan, const std::vector<int64_t>& user_ids,
                                   const std::shared_ptr<const std::string>& event,
                                   const std::optional<MembershipChange>& membership) {
  std::unordered_map<std::string, Outgoing*> per_comet;
  for (auto u : user_ids) {
    for (auto& comet : plan.user_routes[plan.user_index[u]]) {
      auto addr = plan.live.find(comet);
      if (addr == plan.live.end()) continue;
      auto& c = per_comet[comet];
      if (!c) {
        c = plan.new_call(Outgoing::Method::kPushMsg, comet, addr->second);
        if (membership) {
          auto* m = c->users.mutable_membership();
          m->set_room_id(membership->room_id);
          m->set_joined(membership->joined);
          m->set_origin_conn(membership->origin_conn);
        } else {
          c->users.set_event(*event);
        }
      }
      c->users.add_user_ids(u);
    }
  }
}

void RemoteComets::deliver(std::vector<Item> items) {
  Plan plan;
  std::vector<std::shared_ptr<const RoomMessages>> chat;
  for (auto& it : items) {
    if (it.kind == PushKind::kChat && it.batch && !it.batch->messages.empty()) {
      plan.note_room(it.batch->room_id);
      chat.push_back(it.batch);
    } else if (it.kind == PushKind::kRoom) {
      plan.note_room(it.room_id);
    } else if (it.kind == PushKind::kUsers || it.kind == PushKind::kMembership) {
      plan.note_users(it.user_ids);
    } else if (it.kind == PushKind::kRoomNotice || it.kind == PushKind::kUserNotice) {
      if (it.notice->user_ids.empty()) plan.note_room(it.notice->room_id);
      plan.note_users(it.notice->user_ids);
    }
  }
  plan.batches = merge_room_batches(chat);
  if (!read_routes(plan, items.size())) return;
  resolve_comets(plan);
  add_calls(plan, items);
  send_with_retries(plan);
}

// Routes from Redis (read now, never cached). False when Redis stays unreadable: the round is
// dropped (clients resume; comets late on their heartbeat re-read their rooms).
bool RemoteComets::read_routes(Plan& plan, std::size_t items) {
  for (int attempt = 0;; ++attempt) {
    try {
      plan.room_routes = routes_.rooms(plan.rooms);
      plan.user_routes = routes_.users(plan.users);
      if (!routes_.complete()) {
        // Routes may be being rebuilt (Redis lost them, or this Job just started and cannot
        // tell): every known comet gets everything, and so do the comets the routes name,
        // which may be too new for the resolver (resolve_comets refreshes it for them).
        std::vector<std::string> all;
        for (auto& n : comets_.nodes()) all.push_back(n.id);
        auto widen = [&](std::vector<std::string>& r) {
          for (auto& id : all)
            if (std::find(r.begin(), r.end(), id) == r.end()) r.push_back(id);
        };
        for (auto& r : plan.room_routes) widen(r);
        for (auto& r : plan.user_routes) widen(r);
      }
      return true;
    } catch (const std::exception& e) {
      if (attempt >= 20) {
        spdlog::error("job: routes unreadable, dropping {} pushes (clients resume): {}; {}", items,
                      e.what(), trace_list(batch_traces(plan.batches)));
        return false;
      }
      spdlog::warn("job: reading routes failed, retrying: {}", e.what());
      std::this_thread::sleep_for(250ms);
    }
  }
}

// The live comets, refreshed when a route names one the resolver does not know yet.
void RemoteComets::resolve_comets(Plan& plan) {
  plan.nodes = comets_.nodes();
  auto now = std::chrono::steady_clock::now();
  if ((names_unknown_comet(plan.nodes, plan.room_routes) ||
       names_unknown_comet(plan.nodes, plan.user_routes)) &&
      now - forced_refresh_at_ > 250ms) {
    // Maybe a comet that (re-)registered since the last refresh: pushes to it must not be
    // skipped. (Stale routes of a dead comet also land here, hence at most 4 reads a second.)
    forced_refresh_at_ = now;
    try {
      comets_.refresh();
      plan.nodes = comets_.nodes();
    } catch (const std::exception& e) {
      spdlog::warn("job: comet registry unreadable: {}", e.what());
    }
  }
  std::vector<std::string> addresses;
  for (auto& n : plan.nodes) {
    plan.live[n.id] = n.address;
    addresses.push_back(n.address);
  }
  channels_.retain(addresses);
}

// One BroadcastRoom per comet with every room batch and event it needs, one PushMsg per comet
// and user event, one Broadcast per comet and broadcast.
void RemoteComets::add_calls(Plan& plan, const std::vector<Item>& items) {
  for (auto& b : plan.batches) {
    pb::RoomMessages msg;
    to_pb(*b, msg);
    for (auto& comet : plan.room_routes[plan.room_index[b->room_id]])
      if (auto* c = plan.room_call_for(comet)) *c->room.add_batches() = msg;
  }
  for (auto& it : items) {
    if (it.kind == PushKind::kRoom) {
      for (auto& comet : plan.room_routes[plan.room_index[it.room_id]])
        if (auto* c = plan.room_call_for(comet)) {
          auto* e = c->room.add_events();
          e->set_room_id(it.room_id);
          e->set_event(*it.event);
        }
    } else if (it.kind == PushKind::kUsers || it.kind == PushKind::kMembership) {
      add_users_calls(plan, it.user_ids, it.event, it.membership);
    } else if (it.kind == PushKind::kBroadcast) {
      for (auto& n : plan.nodes)
        plan.new_call(Outgoing::Method::kBroadcast, n.id, n.address)
            ->broadcast.set_event(*it.event);
    } else if (it.kind == PushKind::kRoomNotice || it.kind == PushKind::kUserNotice) {
      add_notice_calls(plan, *it.notice);
    }
  }
}

void RemoteComets::add_notice_calls(Plan& plan, const RelayedNotice& notice) {
  if (!notice.user_ids.empty()) {
    // Read state: one PushMsg per comet holding the user (rare: coalesced by the origin).
    std::unordered_map<std::string, Outgoing*> per_comet;
    for (auto u : notice.user_ids) {
      for (auto& comet : plan.user_routes[plan.user_index[u]]) {
        auto addr = plan.live.find(comet);
        if (comet == notice.origin_comet || addr == plan.live.end()) continue;
        auto& c = per_comet[comet];
        if (!c) {
          c = plan.new_call(Outgoing::Method::kPushMsg, comet, addr->second);
          c->users.set_event(notice.event);
          c->users.set_notice_room(notice.room_id);
        }
        c->users.add_user_ids(u);
      }
    }
    return;
  }
  for (auto& comet : plan.room_routes[plan.room_index[notice.room_id]]) {
    if (comet == notice.origin_comet) continue;
    auto* c = plan.room_call_for(comet);
    if (!c) continue;
    auto* e = c->room.add_events();
    e->set_room_id(notice.room_id);
    if (!notice.is_presence()) {
      e->set_event(notice.event);
      e->set_notice(true);
      e->set_except_user(notice.except_user);
      continue;
    }
    auto* change = e->mutable_presence();
    change->set_origin_comet(notice.origin_comet);
    for (auto& u : notice.joined) set_user(change->add_joined(), u);
    for (auto& u : notice.left) set_user(change->add_left(), u);
  }
}

// Every call is idempotent for the user (seq dedup on the connections): retry what failed
// while its comet is still registered; a comet that stays unreachable is given up.
void RemoteComets::send_with_retries(Plan& plan) {
  std::vector<Outgoing*> pending;
  for (auto& c : plan.calls) pending.push_back(c.get());
  for (int attempt = 0; attempt < kAttempts && !pending.empty(); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(100ms * (1 << (attempt - 1)));
      try {
        comets_.refresh();
      } catch (const std::exception& e) {
        spdlog::warn("job: comet registry unreadable: {}", e.what());
      }
      std::unordered_set<std::string> still;
      for (auto& n : comets_.nodes()) still.insert(n.id);
      std::erase_if(pending, [&](Outgoing* c) { return !still.count(c->comet_id); });
    }
    send_round(channels_, pending);
    std::vector<Outgoing*> failed;
    for (auto* c : pending) {
      if (c->status.ok()) continue;
      spdlog::warn("job: push to comet {} failed ({}: {}); {}", c->comet_id,
                   static_cast<int>(c->status.error_code()), c->status.error_message(),
                   trace_list(call_traces(*c)));
      failed.push_back(c);
    }
    pending = std::move(failed);
  }
  for (auto* c : pending) give_up(c->comet_id);
}

void RemoteComets::give_up(const std::string& comet_id) {
  // The batch is committed after this round, so the comet must learn that it missed pushes:
  // removing its registry entry makes its next heartbeat find it was out, and it re-reads its
  // rooms from the store (a comet out of the registry, or one that could not heartbeat for
  // longer than the TTL, does the same). Later pushes to the room reveal the hole anyway.
  spdlog::error("job: gave up pushing to comet {}; removing it from the registry", comet_id);
  try {
    redis_.command({"DEL", node_key("comet", comet_id)});
  } catch (const std::exception& e) {
    spdlog::error("job: could not remove comet {} from the registry: {}", comet_id, e.what());
  }
}

}  // namespace roomcast
