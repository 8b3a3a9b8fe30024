// The one mapping between the domain's messages and the wire (proto/message.proto), used by
// every contract that carries them: the comet and logic gRPC services, the queue records and
// the history cached in Redis. Pure functions, any thread.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <span>
#include <string>
#include <vector>

#include "domain/message.h"
#include "message.pb.h"

namespace roomcast {

using WireMessages = google::protobuf::RepeatedPtrField<domain::Message>;

// Everything but room_id (the container names the room) and dedup_key (only the queue carries
// it, next to the message).
void message_to_wire(const StoredMessage& m, domain::Message& out);
void messages_to_wire(std::span<const StoredMessage> messages, WireMessages& out);
// `room_id`: the room of the container the message came in.
StoredMessage message_from_wire(const domain::Message& m, const std::string& room_id);
std::vector<StoredMessage> messages_from_wire(const WireMessages& messages,
                                              const std::string& room_id);

void client_message_to_wire(const ClientMessage& m, domain::ClientMessage& out);
ClientMessage client_message_from_wire(const domain::ClientMessage& m);

}  // namespace roomcast
