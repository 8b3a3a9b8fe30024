#include "queue/record_codec.h"

#include "domain/message_wire.h"
#include "queue.pb.h"

namespace roomcast {

namespace {

// The wire enum is spelled out instead of cast so either side can be renumbered safely.
queue::Record::Type to_wire(PushKind t) {
  switch (t) {
    case PushKind::kUsers:
      return queue::Record::USER;
    case PushKind::kRoom:
      return queue::Record::ROOM;
    case PushKind::kBroadcast:
      return queue::Record::BROADCAST;
    case PushKind::kMembership:
      return queue::Record::MEMBERSHIP;
    case PushKind::kChat:
      break;
    case PushKind::kRoomNotice:
    case PushKind::kUserNotice:  // comet-side kinds: a relayed notice is a kRoom or kUsers record
      throw RecordCodecError("not a queue record kind");
  }
  return queue::Record::CHAT;
}

PushKind from_wire(int t) {
  switch (t) {
    case queue::Record::CHAT:
      return PushKind::kChat;
    case queue::Record::USER:
      return PushKind::kUsers;
    case queue::Record::ROOM:
      return PushKind::kRoom;
    case queue::Record::BROADCAST:
      return PushKind::kBroadcast;
    case queue::Record::MEMBERSHIP:
      return PushKind::kMembership;
  }
  throw RecordCodecError("unknown record type " + std::to_string(t));
}

// A chat record of a version before queue.Record.message (in the topic during an upgrade).
StoredMessage legacy_message(const queue::Record& p) {
  return {.room_id = p.room_id(),
          .user_id = p.legacy_sender_id(),
          .username = p.legacy_sender_name(),
          .content = p.legacy_content(),
          .timestamp_ms = p.legacy_timestamp_ms(),
          .client_id = p.legacy_client_id(),
          .dedup_key = p.dedup_key()};
}

void set_user(queue::PresenceUser* out, const User& u) {
  out->set_id(u.id);
  out->set_username(u.username);
}

}  // namespace

void encode_record(const QueueRecord& r, std::string& out) {
  queue::Record p;
  p.set_type(to_wire(r.type));
  p.set_op(r.op);
  p.set_joined_room(r.joined_room);
  p.set_room_id(r.room_id);
  p.mutable_user_ids()->Add(r.user_ids.begin(), r.user_ids.end());
  p.set_body(r.body);
  if (r.type == PushKind::kChat) {
    message_to_wire(r.message, *p.mutable_message());
    p.set_dedup_key(r.message.dedup_key);
  }
  p.set_origin_conn(r.origin_conn);
  p.set_event_id(r.event_id);
  if (r.trace_id) {
    auto hex = r.trace_id.hex();
    p.set_trace_id(hex.data(), hex.size());
  }
  p.set_origin_comet(r.origin_comet);
  p.set_exclude_user(r.exclude_user);
  if (!r.joined.empty() || !r.left.empty()) {
    auto* change = p.mutable_presence();
    for (auto& u : r.joined) set_user(change->add_joined(), u);
    for (auto& u : r.left) set_user(change->add_left(), u);
  }
  out.clear();
  if (!p.SerializeToString(&out)) throw RecordCodecError("record does not serialise");
}

std::string encode_record(const QueueRecord& record) {
  std::string out;
  encode_record(record, out);
  return out;
}

QueueRecord decode_record(std::string_view bytes) {
  queue::Record p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw RecordCodecError("malformed queue record");
  QueueRecord r;
  r.type = from_wire(p.type());
  r.op = p.op();
  // Records of older versions said "joined" with op 1.
  r.joined_room = p.joined_room() || (r.type == PushKind::kMembership && p.op() == 1);
  r.room_id = p.room_id();
  r.user_ids.assign(p.user_ids().begin(), p.user_ids().end());
  r.body = p.body();
  if (r.type == PushKind::kChat) {
    r.message = p.has_message() ? message_from_wire(p.message(), r.room_id) : legacy_message(p);
    r.message.dedup_key = p.dedup_key();
  }
  r.origin_conn = p.origin_conn();
  r.event_id = p.event_id();
  // A malformed trace id only costs the logs their trace: the record is still good.
  r.trace_id = TraceId::parse(p.trace_id()).value_or(TraceId{});
  r.origin_comet = p.origin_comet();
  r.exclude_user = p.exclude_user();
  for (auto& u : p.presence().joined()) r.joined.push_back({u.id(), u.username()});
  for (auto& u : p.presence().left()) r.left.push_back({u.id(), u.username()});
  return r;
}

}  // namespace roomcast
