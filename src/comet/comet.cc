#include "comet/comet.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <utility>

#include "comet/chat_session.h"
#include "common/log_ids.h"
#include "common/metrics_events.h"
#include "common/origin.h"
#include "domain/close_codes.h"

namespace roomcast {

Comet::Comet(IoPool& loops, asio::thread_pool& blocking, LogicApi& logic, const Config& config)
    : loops_(loops),
      blocking_(blocking),
      logic_(logic),
      config_(config),
      typing_(std::chrono::milliseconds(config.presence.typing_interval_ms)) {
  for (std::size_t i = 0; i < loops.size(); ++i) {
    shards_.push_back(std::make_unique<CometShard>(loops.at(i), config.limits));
    schedule_sweep(*shards_.back());
  }
  tracker_ = std::make_unique<PresenceTracker>(
      loops.at(0), blocking, config.presence,
      [this](const std::string& room, std::string event) { push_room_notice(room, event); });
  tracker_->start();
  read_states_ = std::make_unique<ReadStateFanout>(
      loops.at(0), std::chrono::milliseconds(config.presence.read_state_window_ms),
      [this](int64_t user, const std::string& room, const std::string& event, uint64_t except) {
        push_user_notice(user, room, event, except);
        if (relay_) relay_->user_notice(user, room, event);  // the user's other comets
      });
}

Comet::~Comet() {
  for (auto& s : shards_) {
    s->sweep.cancel();
    s->tail_recheck.cancel();
  }
}

void Comet::set_presence_api(PresenceApi* api) {
  presence_api_ = api;
  if (api)
    tracker_->set_member_counter(
        [api](const std::string& room) { return api->member_count(room); });
}

void Comet::set_notice_relay(NoticeRelay* relay) {
  relay_ = relay;
  if (relay)
    tracker_->set_change_sink(
        [relay](const std::string& room, std::vector<User> joined, std::vector<User> left) {
          relay->presence_changes(room, std::move(joined), std::move(left));
        });
}

void Comet::schedule_sweep(CometShard& shard) {
  // Fine enough for the configured ping interval, never busier than needed.
  auto interval =
      std::chrono::milliseconds(std::clamp(config_.limits.ping_interval_ms / 4, 50, 1000));
  shard.sweep.expires_after(interval);
  shard.sweep.async_wait([this, &shard](boost::system::error_code ec) {
    if (ec) return;
    auto now = ChatSession::Clock::now();
    for (auto* s : shard.all) s->tick(now);
    schedule_sweep(shard);
  });
}

void Comet::accept(asio::io_context& loop, asio::ip::tcp::socket socket,
                   boost::beast::http::request<boost::beast::http::string_body> request,
                   std::string leftover, std::shared_ptr<const void> address_slot) {
  auto session =
      std::make_shared<ChatSession>(*this, shard_of(loop), std::move(socket), std::move(leftover));
  session->hold(std::move(address_slot));
  session->start(std::move(request));
}

void Comet::add(CometShard& shard, ChatSession* s, int64_t user_id) {
  assert_in_loop(shard.ctx, "Comet::add");
  shard.all.push_back(s);
  shard.users[user_id].push_back(s);
  ++connections_;
  tracker_->connected(s->user());
  {
    std::lock_guard lock(counts_mutex_);
    ++user_counts_[user_id];
  }
  auto max = static_cast<std::size_t>(std::max(0, config_.limits.connections_per_user_max));
  // The user's oldest connection gives way (4008: the client must not reconnect by itself).
  for (auto& old :
       user_connections_.add(user_id, {s->connection_id(), &shard, s->weak_self()}, max))
    close_entry(old, close_code::kTooManyConnections, close_reason::kTooManyConnections);
}

void Comet::close_connection(uint64_t conn_id, uint16_t code, const char* reason) {
  if (auto entry = user_connections_.find(conn_id)) close_entry(*entry, code, reason);
}

void Comet::close_entry(const UserConnections::Entry& entry, uint16_t code, const char* reason) {
  asio::post(entry.shard->ctx, [session = entry.session, code, reason] {
    if (auto s = session.lock()) s->close(code, reason);
  });
}

std::vector<std::string> Comet::local_rooms() const {
  std::lock_guard lock(counts_mutex_);
  std::vector<std::string> out;
  for (auto& [room, n] : room_counts_) out.push_back(room);
  return out;
}

std::vector<int64_t> Comet::local_users() const {
  std::lock_guard lock(counts_mutex_);
  std::vector<int64_t> out;
  for (auto& [user, n] : user_counts_) out.push_back(user);
  return out;
}

namespace {
// Sessions written per round of a drain: about a millisecond of system calls on a busy box, so
// the loop reads its sockets between two rounds (comet/write_rounds.h).
constexpr std::size_t kSessionsPerRound = 256;

void erase_from(std::vector<ChatSession*>& v, ChatSession* s) {
  auto it = std::find(v.begin(), v.end(), s);
  if (it == v.end()) return;
  *it = v.back();
  v.pop_back();
}

// At debug: one line per message this comet pushes, with its id and trace.
void log_pushed(const RoomMessages& batch) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  for (std::size_t i = 0; i < batch.messages.size(); ++i) {
    auto& m = batch.messages[i];
    auto trace = i < batch.trace_ids.size() ? batch.trace_ids[i] : TraceId{};
    log_ids(spdlog::level::debug,
            LogIds().user(m.user_id).room(batch.room_id).msg(m.seq).trace(trace),
            "comet: pushing a message to the room's connections");
  }
}
}  // namespace

void Comet::remove(CometShard& shard, ChatSession* s, int64_t user_id) {
  assert_in_loop(shard.ctx, "Comet::remove");
  user_connections_.remove(user_id, s->connection_id());
  erase_from(shard.all, s);
  auto it = shard.users.find(user_id);
  if (it != shard.users.end()) {
    erase_from(it->second, s);
    if (it->second.empty()) shard.users.erase(it);
  }
  if (s->corked()) shard.writes.forget(s);  // waiting for its turn in the write rounds
  --connections_;
  tracker_->disconnected(user_id);
  std::lock_guard lock(counts_mutex_);
  if (auto c = user_counts_.find(user_id); c != user_counts_.end() && --c->second == 0)
    user_counts_.erase(c);
}

void Comet::subscribe(CometShard& shard, ChatSession* s, const std::string& room) {
  assert_in_loop(shard.ctx, "Comet::subscribe");
  auto& members = shard.rooms[room];
  if (std::find(members.begin(), members.end(), s) != members.end()) return;
  members.push_back(s);
  tracker_->entered(s->user(), room);
  std::lock_guard lock(counts_mutex_);
  ++room_counts_[room];
}

void Comet::unsubscribe(CometShard& shard, ChatSession* s, const std::string& room, bool closing) {
  assert_in_loop(shard.ctx, "Comet::unsubscribe");
  auto it = shard.rooms.find(room);
  if (it == shard.rooms.end()) return;
  auto& members = it->second;
  auto pos = std::find(members.begin(), members.end(), s);
  if (pos == members.end()) return;
  *pos = members.back();
  members.pop_back();
  if (members.empty()) shard.rooms.erase(it);
  tracker_->exited(s->user().id, room, closing);
  std::lock_guard lock(counts_mutex_);
  if (auto c = room_counts_.find(room); c != room_counts_.end() && --c->second == 0)
    room_counts_.erase(c);
}

// Every push is framed once here; each loop's recipients share one copy (enqueue()).
void Comet::push_room_messages(std::shared_ptr<const RoomMessages> batch) {
  log_pushed(*batch);
  ShardPush p;
  p.kind = PushKind::kChat;
  p.batch_frame = make_text_frame(batch->event);
  p.batch = std::move(batch);
  enqueue(p);
}

void Comet::push_room_event(const std::string& room_id, std::shared_ptr<const std::string> json) {
  push_room_events(room_id, {std::move(json)});
}

void Comet::push_room_events(const std::string& room_id,
                             const std::vector<std::shared_ptr<const std::string>>& events) {
  auto frames = std::make_shared<std::vector<Frame>>();
  for (auto& e : events) frames->push_back(make_text_frame(*e));
  ShardPush p;
  p.kind = PushKind::kRoom;
  p.room_id = room_id;
  p.frames = std::move(frames);
  enqueue(p);
}

void Comet::push_users_event(const std::vector<int64_t>& user_ids,
                             std::shared_ptr<const std::string> json) {
  ShardPush p;
  p.kind = PushKind::kUsers;
  p.frames = std::make_shared<const std::vector<Frame>>(1, make_text_frame(*json));
  p.user_ids = std::make_shared<const std::vector<int64_t>>(user_ids);
  enqueue(p);
}

void Comet::broadcast_event(std::shared_ptr<const std::string> json) {
  ShardPush p;
  p.kind = PushKind::kBroadcast;
  p.frames = std::make_shared<const std::vector<Frame>>(1, make_text_frame(*json));
  enqueue(p);
}

void Comet::sync_membership(const MembershipChange& change) {
  ShardPush p;
  p.kind = PushKind::kMembership;
  p.membership = std::make_shared<const MembershipChange>(change);
  enqueue(p);
}

void Comet::push_room_notice(const std::string& room_id, const std::string& event,
                             int64_t except_user) {
  ShardPush p;
  p.kind = PushKind::kRoomNotice;
  p.room_id = room_id;
  p.frames = std::make_shared<const std::vector<Frame>>(1, make_text_frame(event));
  p.except_user = except_user;
  enqueue(p);
}

void Comet::push_user_notice(int64_t user_id, const std::string& room_id, const std::string& event,
                             uint64_t except_conn) {
  ShardPush p;
  p.kind = PushKind::kUserNotice;
  p.room_id = room_id;
  p.frames = std::make_shared<const std::vector<Frame>>(1, make_text_frame(event));
  p.user_ids = std::make_shared<const std::vector<int64_t>>(1, user_id);
  p.except_conn = except_conn;
  enqueue(p);
}

namespace {
// A copy of `push` with frames of its own. Every recipient takes a reference to its frame: with
// one frame shared by all loops, the reference count's cache line would bounce between cores
// once per delivery.
ShardPush with_own_frames(const ShardPush& push) {
  ShardPush copy = push;
  auto clone = [](const Frame& f) { return f ? std::make_shared<const std::string>(*f) : f; };
  copy.batch_frame = clone(push.batch_frame);
  if (push.frames) {
    auto frames = std::make_shared<std::vector<Frame>>();
    frames->reserve(push.frames->size());
    for (auto& f : *push.frames) frames->push_back(clone(f));
    copy.frames = std::move(frames);
  }
  return copy;
}
}  // namespace

void Comet::enqueue(ShardPush push) {
  push.pushed_us = metrics::wall_micros();
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    auto& shard = shards_[i];
    bool last = i + 1 == shards_.size();
    ShardPush mine = last ? std::move(push) : with_own_frames(push);
    bool post = false;
    {
      std::lock_guard lock(shard->inbox.mutex);
      shard->inbox.pushes.push_back(std::move(mine));
      post = !std::exchange(shard->inbox.drain_posted, true);
    }
    if (post) asio::post(shard->ctx, [this, &shard = *shard] { drain(shard); });
  }
}

void Comet::drain(CometShard& shard) {
  assert_in_loop(shard.ctx, "Comet::drain");
  metrics::DeliveryClock clock;  // one clock reading for every delivery of this round
  std::vector<ShardPush> pushes;
  {
    std::lock_guard lock(shard.inbox.mutex);
    pushes.swap(shard.inbox.pushes);
  }
  if (!pushes.empty()) deliver_pushes(shard, pushes);
  bool more = shard.writes.write_round(kSessionsPerRound, [](int64_t started_us, std::size_t n) {
    metrics::delivery_stage(DeliveryStage::kWrite, metrics::wall_micros() - started_us, n);
  });
  {
    // drain_posted stays set while rounds remain, so pushes meanwhile post nothing more.
    std::lock_guard lock(shard.inbox.mutex);
    more = more || !shard.inbox.pushes.empty();
    if (!more) shard.inbox.drain_posted = false;
  }
  // The next round goes behind what the loop has ready (socket reads, publish requests).
  if (more) asio::post(shard.ctx, [this, &shard] { drain(shard); });
}

void Comet::deliver_pushes(CometShard& shard, std::vector<ShardPush>& pushes) {
  auto started = metrics::delivery_micros();
  for (auto& p : pushes) metrics::delivery_stage(DeliveryStage::kInbox, started - p.pushed_us);
  // Sessions queue what they get here; their writes wait for their turn in the rounds.
  auto cork = [&shard](ChatSession* s) {
    shard.writes.feed(s);
    return s;
  };
  for (auto& p : pushes) {
    switch (p.kind) {
      case PushKind::kChat: {
        auto it = shard.rooms.find(p.batch->room_id);
        if (it == shard.rooms.end()) break;
        for (auto* s : it->second) cork(s)->deliver_room_messages(p.batch, p.batch_frame);
        break;
      }
      case PushKind::kRoom: {
        auto it = shard.rooms.find(p.room_id);
        if (it == shard.rooms.end()) break;
        for (auto* s : it->second) cork(s)->send_many(*p.frames);
        break;
      }
      case PushKind::kUsers:
        for (auto id : *p.user_ids) {
          auto it = shard.users.find(id);
          if (it == shard.users.end()) continue;
          for (auto* s : it->second) cork(s)->send_many(*p.frames);
        }
        break;
      case PushKind::kBroadcast:
        for (auto* s : shard.all) cork(s)->send_many(*p.frames);
        break;
      case PushKind::kMembership: {
        auto it = shard.users.find(p.membership->user_id);
        if (it == shard.users.end()) break;
        // A copy: following a join may start I/O that changes the shard's tables.
        auto sessions = it->second;
        for (auto* s : sessions) s->follow_membership(*p.membership);
        break;
      }
      case PushKind::kRoomNotice:
      case PushKind::kUserNotice:
        deliver_notice(shard, p, cork);
        break;
    }
  }
  shard.writes.mark(started, pushes.size());
}

void Comet::deliver_notice(CometShard& shard, const ShardPush& p,
                           const std::function<ChatSession*(ChatSession*)>& cork) {
  bool to_room = p.kind == PushKind::kRoomNotice;
  const std::vector<ChatSession*>* sessions = nullptr;
  if (to_room) {
    if (auto it = shard.rooms.find(p.room_id); it != shard.rooms.end()) sessions = &it->second;
  } else if (auto it = shard.users.find(p.user_ids->front()); it != shard.users.end()) {
    sessions = &it->second;
  }
  if (!sessions) return;
  for (auto* s : *sessions) {
    bool skip = to_room ? s->user().id == p.except_user : s->connection_id() == p.except_conn;
    if (!skip) cork(s)->deliver_notice(p.room_id, p.frames->front());
  }
}

void Comet::check_tails(std::chrono::milliseconds recheck) {
  for (auto& shard : shards_) {
    asio::post(shard->ctx, [&shard = *shard, recheck] {
      for (auto* s : shard.all) s->check_tails();
      shard.tail_recheck.expires_after(recheck);
      shard.tail_recheck.async_wait([&shard](boost::system::error_code ec) {
        if (ec) return;
        for (auto* s : shard.all) s->check_tails();
      });
    });
  }
}

void Comet::shutdown() {
  assert_not_in_loops(loops_, "Comet::shutdown");
  tracker_->stop();
  read_states_->stop();
  std::vector<std::future<void>> done;
  for (auto& shard : shards_) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    asio::post(shard->ctx, [p, &shard = *shard] {
      shard.sweep.cancel();
      shard.tail_recheck.cancel();
      for (auto* s : shard.all) s->close(close_code::kGoingAway, close_reason::kShuttingDown);
      p->set_value();
    });
  }
  for (auto& f : done) f.wait();
}

bool Comet::origin_allowed(std::string_view origin, std::string_view host) const {
  return roomcast::origin_allowed(origin, host, config_.allowed_origins);
}

}  // namespace roomcast
