// Reading a cookie out of a Cookie header (the session id travels as `sid`).
#pragma once

#include <string>
#include <string_view>

namespace roomcast {
// Value of cookie `name` in a Cookie header, or "" when absent.
std::string cookie_value(std::string_view header, std::string_view name);
}  // namespace roomcast
