// Serialisation of server → client events (docs/protocol.md). Each function returns the complete
// frame text; fan-out code serialises once and shares the bytes.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "domain/message.h"
#include "domain/room.h"
#include "domain/room_page.h"
#include "domain/user.h"

namespace roomcast {

void append_server_message(std::string& out, const StoredMessage& m);

// Keeps the newest messages whose serialised size fits in `max_bytes` (always at least one, so
// paging moves on). Returns true when it cut any.
bool trim_to_bytes(std::vector<StoredMessage>& newest_first, std::size_t max_bytes);

std::string hello_event(const User& me, const std::vector<RoomPage>& rooms);
// `messages` in room order (oldest first).
std::string server_messages_event(const std::string& room_id,
                                  std::span<const StoredMessage> messages);
std::string room_history_event(const std::string& room_id,
                               const std::vector<StoredMessage>& newest_first, bool has_more,
                               bool resume);
std::string create_room_event(const RoomInfo& room);
std::string joined_room_event(const RoomPage& page);
std::string left_room_event(const std::string& room_id);
// `body_json` must already be valid JSON text.
std::string push_event(int64_t op, const std::string& body_json);
// `retry_after_ms` > 0 adds `retryAfterMs` (RATE_LIMITED).
std::string error_event(const std::string& code, const std::string& message,
                        const std::string& request_type, int64_t retry_after_ms = 0);

}  // namespace roomcast
