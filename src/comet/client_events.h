// Parsing of client → server events (docs/protocol.md). Pure functions: the codec is unit tested
// and fuzzed on its own; a parse failure carries the serverError code to answer with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/message.h"

namespace roomcast {

struct ResumeRoom {
  std::string room_id;
  std::string last_message_id;  // validated later, per room (a bad one errors only that room)
  bool room_id_valid = true;    // false: answered with BAD_REQUEST, never looked up
};

// The default of limits.messages_per_event_max.
constexpr std::size_t kMaxMessagesPerEvent = 100;

struct ClientEvent {
  enum class Kind {
    kMessages,
    kHistory,
    kCreateRoom,
    kJoinRoom,
    kLeaveRoom,
    kResume,
    kTyping,
    kMarkRead,
    kRoomMembers
  };
  Kind kind = Kind::kMessages;
  std::string type;  // as sent, for `requestType`
  std::string room_id;
  std::vector<ClientMessage> messages;          // kMessages
  std::optional<std::string> first_message_id;  // kHistory
  std::optional<int64_t> count;                 // kHistory
  std::string room_name;                        // kCreateRoom
  std::vector<ResumeRoom> resume;               // kResume
  std::string last_message_id;                  // kMarkRead (validated by the handler)
  std::optional<std::string> after;             // kRoomMembers
};

struct ParseError {
  std::string code;  // BAD_REQUEST | UNKNOWN_TYPE
  std::string message;
  std::string request_type;  // "" when the frame was not JSON
};

// Parses one text frame. Exactly one of the two results is set.
struct ParsedClientEvent {
  std::optional<ClientEvent> event;
  std::optional<ParseError> error;
};
// Parses one text frame; a clientMessages event with more than `max_messages` messages is
// BAD_REQUEST.
ParsedClientEvent parse_client_event(std::string_view frame,
                                     std::size_t max_messages = kMaxMessagesPerEvent);

}  // namespace roomcast
