// LogicService::Relay: notices a comet delivered to its own connections and relays to the other
// comets (typing, read state, presence changes), turned into queue records that Job pushes to
// the comets holding the room or user, skipping the relaying comet.
#include <spdlog/spdlog.h>

#include "common/room_id.h"
#include "rpc/logic_service.h"

namespace roomcast {

namespace pb = roomcast::logic;

namespace {
// A notice is one small event (serverTyping, serverReadState) or a window's presence changes
// of one room; anything larger did not come from a comet of ours.
constexpr int kMaxNotices = 10000;
constexpr std::size_t kMaxEventBytes = 4096;
constexpr int kMaxNamed = 2000;

std::vector<User> users_of(const google::protobuf::RepeatedPtrField<pb::User>& in) {
  std::vector<User> out;
  out.reserve(static_cast<std::size_t>(in.size()));
  for (auto& u : in) out.push_back({u.id(), u.username()});
  return out;
}

bool well_formed(const pb::Notice& n) {
  return valid_room_id(n.room_id()) && n.event().size() <= kMaxEventBytes &&
         n.joined_size() + n.left_size() <= kMaxNamed &&
         (!n.event().empty() || n.user_id() == 0);  // presence changes are room notices
}

QueueRecord record_of(const pb::Notice& n, const std::string& comet_id) {
  QueueRecord r;
  r.type = n.user_id() != 0 ? PushKind::kUsers : PushKind::kRoom;
  r.room_id = n.room_id();  // the partition key: a room's notices stay in order
  if (n.user_id() != 0) r.user_ids.push_back(n.user_id());
  r.body = n.event();
  r.origin_comet = comet_id;
  r.exclude_user = n.except_user();
  r.joined = users_of(n.joined());
  r.left = users_of(n.left());
  return r;
}
}  // namespace

grpc::Status LogicService::Relay(grpc::ServerContext*, const pb::RelayRequest* req,
                                 pb::RelayReply*) {
  if (req->comet_id().empty() || req->notices_size() > kMaxNotices)
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "a relay names its comet and at most 10000 notices"};
  std::vector<QueueRecord> records;
  records.reserve(static_cast<std::size_t>(req->notices_size()));
  for (auto& n : req->notices()) {
    if (!well_formed(n)) {
      spdlog::warn("logic: dropped a malformed notice relayed by {}", req->comet_id());
      continue;
    }
    records.push_back(record_of(n, req->comet_id()));
  }
  if (records.empty()) return grpc::Status::OK;
  try {
    logic_.relay_notices(std::move(records));
  } catch (const std::exception& e) {
    // Ephemeral: the comet drops them (a typing line or a presence name is not worth a retry).
    return {grpc::StatusCode::UNAVAILABLE, e.what()};
  }
  return grpc::Status::OK;
}

}  // namespace roomcast
