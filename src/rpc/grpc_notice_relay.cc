#include "rpc/grpc_notice_relay.h"

#include <spdlog/spdlog.h>

namespace roomcast {

namespace pb = roomcast::logic;

namespace {
// Notices waiting for the relay thread: past this (Logic unreachable for a while) new ones are
// dropped, so a stuck Logic never grows a comet's memory.
constexpr std::size_t kMaxPending = 10000;
// Notices per Relay call (a call stays well under gRPC's message size limit).
constexpr std::size_t kPerCall = 1000;
// How long the thread waits, once woken, for more: a presence tick hands over its rooms one by
// one, and they should share one call.
constexpr auto kLinger = std::chrono::milliseconds(5);

void add_users(google::protobuf::RepeatedPtrField<pb::User>* out, const std::vector<User>& in) {
  for (auto& u : in) {
    auto* o = out->Add();
    o->set_id(u.id);
    o->set_username(u.username);
  }
}
}  // namespace

GrpcNoticeRelay::GrpcNoticeRelay(GrpcLogicClient& logic, std::string comet_id)
    : logic_(logic), comet_id_(std::move(comet_id)) {}

GrpcNoticeRelay::~GrpcNoticeRelay() {
  stop();
}

void GrpcNoticeRelay::start() {
  thread_ = std::thread([this] { run(); });
}

void GrpcNoticeRelay::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GrpcNoticeRelay::room_notice(const std::string& room_id, const std::string& event,
                                  int64_t except_user) {
  pb::Notice n;
  n.set_room_id(room_id);
  n.set_event(event);
  n.set_except_user(except_user);
  add(std::move(n));
}

void GrpcNoticeRelay::user_notice(int64_t user_id, const std::string& room_id,
                                  const std::string& event) {
  pb::Notice n;
  n.set_room_id(room_id);
  n.set_event(event);
  n.set_user_id(user_id);
  add(std::move(n));
}

void GrpcNoticeRelay::presence_changes(const std::string& room_id, std::vector<User> joined,
                                       std::vector<User> left) {
  if (joined.empty() && left.empty()) return;
  pb::Notice n;
  n.set_room_id(room_id);
  add_users(n.mutable_joined(), joined);
  add_users(n.mutable_left(), left);
  add(std::move(n));
}

void GrpcNoticeRelay::add(pb::Notice notice) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (pending_.size() >= kMaxPending) {
      ++dropped_;
      return;
    }
    pending_.push_back(std::move(notice));
  }
  wake_.notify_one();
}

void GrpcNoticeRelay::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    lock.unlock();
    std::this_thread::sleep_for(kLinger);
    lock.lock();
    std::vector<pb::Notice> batch;
    batch.swap(pending_);
    auto dropped = std::exchange(dropped_, 0);
    lock.unlock();
    if (dropped > 0) spdlog::warn("comet: {} notices not relayed (queue full)", dropped);
    send(batch);
    lock.lock();
  }
}

void GrpcNoticeRelay::send(std::vector<pb::Notice>& notices) {
  for (std::size_t at = 0; at < notices.size(); at += kPerCall) {
    pb::RelayRequest req;
    req.set_comet_id(comet_id_);
    auto end = std::min(notices.size(), at + kPerCall);
    for (auto i = at; i < end; ++i) *req.add_notices() = std::move(notices[i]);
    try {
      logic_.relay(req);
    } catch (const std::exception& e) {
      // Ephemeral: a typing line or a presence name that is late is worth nothing.
      spdlog::warn("comet: {} notices not relayed: {}", end - at, e.what());
    }
  }
}

}  // namespace roomcast
