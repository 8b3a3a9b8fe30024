// A direct JSON writer for the hot path: events are built by appending to one string, so an
// event fanned out to many connections is serialised exactly once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace roomcast {

// Appends `s` as a quoted JSON string. Invalid UTF-8 never reaches here (inputs are validated).
void append_json_string(std::string& out, std::string_view s);
void append_int(std::string& out, int64_t v);

}  // namespace roomcast
