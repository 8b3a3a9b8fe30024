#include "domain/message_wire.h"

namespace roomcast {

void message_to_wire(const StoredMessage& m, domain::Message& out) {
  out.set_seq(m.seq);
  out.set_user_id(m.user_id);
  out.set_username(m.username);
  out.set_content(m.content);
  out.set_timestamp_ms(m.timestamp_ms);
  out.set_client_id(m.client_id);
}

void messages_to_wire(std::span<const StoredMessage> messages, WireMessages& out) {
  out.Reserve(out.size() + static_cast<int>(messages.size()));
  for (auto& m : messages) message_to_wire(m, *out.Add());
}

StoredMessage message_from_wire(const domain::Message& m, const std::string& room_id) {
  return {room_id,     m.seq(),          m.user_id(),   m.username(),
          m.content(), m.timestamp_ms(), m.client_id(), {}};
}

std::vector<StoredMessage> messages_from_wire(const WireMessages& messages,
                                              const std::string& room_id) {
  std::vector<StoredMessage> out;
  out.reserve(static_cast<std::size_t>(messages.size()));
  for (auto& m : messages) out.push_back(message_from_wire(m, room_id));
  return out;
}

void client_message_to_wire(const ClientMessage& m, domain::ClientMessage& out) {
  out.set_content(m.content);
  out.set_client_id(m.client_id);
}

ClientMessage client_message_from_wire(const domain::ClientMessage& m) {
  return {m.content(), m.client_id()};
}

}  // namespace roomcast
