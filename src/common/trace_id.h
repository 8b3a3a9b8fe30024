// The trace id of a chat message: 64 random bits, written as 16 lowercase hex characters. The
// comet that accepts a clientMessages event names it (Logic does for push-API calls); it travels
// with the messages through Logic, the queue and Job to the pushing comets, and every log line
// about them carries it, so `grep <trace>` over the nodes' logs follows a message.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

// A value type (8 bytes, no allocation: 16 characters would not fit std::string's inline
// buffer, and ids are copied per message per hop).
struct TraceId {
  static constexpr std::size_t kHexLength = 16;
  uint64_t value = 0;  // 0: none (a record from an older producer, or a path without one)

  explicit operator bool() const { return value != 0; }
  friend bool operator==(TraceId, TraceId) = default;

  // A new id, never 0. Not cryptographic (a per-thread generator seeded once): ids only need to
  // be unique enough to grep for, and must cost no system call per event. Any thread.
  static TraceId random();
  // Exactly 16 lowercase hex characters, not all zeros; else nullopt.
  static std::optional<TraceId> parse(std::string_view hex);

  std::array<char, kHexLength> hex() const;
  std::string to_string() const;
  void append_to(std::string& out) const;
};

// For a line about many messages (a failed batch or push): "traces a b c (+2 more)", the
// distinct trace ids in order of appearance, at most `shown` of them; "" when there are none.
std::string trace_list(const std::vector<TraceId>& traces, std::size_t shown = 16);

}  // namespace roomcast
