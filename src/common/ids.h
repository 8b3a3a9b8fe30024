// Message ids ("<seq>-<n>"), random tokens and clocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roomcast {

// Formats the public id of a room's message `seq` ("<seq>-0").
std::string message_id(uint64_t seq);
void append_message_id(std::string& out, uint64_t seq);

// Parses "<seq>-<n>" (both decimal, no sign, no spaces). Returns the seq, or nullopt when
// malformed. `n` is reserved, so any value is accepted and ignored.
std::optional<uint64_t> parse_message_id(std::string_view id);
// The seq of the first message not before id "<seq>-<n>", ids compared as pairs of integers:
// seq, or seq + 1 when n > 0 (message "<seq>-0" then comes before the id). A history page
// "before" the id ends just below it. nullopt when malformed.
std::optional<uint64_t> seq_not_before(std::string_view id);

// A random hex string of `bytes` random bytes (libsodium's CSPRNG).
std::string random_hex(std::size_t bytes);

int64_t now_ms();

}  // namespace roomcast
