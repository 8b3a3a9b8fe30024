// Input rules of docs/protocol.md shared by REST and WebSocket handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace roomcast {

// Number of Unicode code points, or nullopt if `s` is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s);

bool valid_username(std::string_view s);  // 4–100 code points, no control characters
bool valid_email(std::string_view s);     // ≤100 code points, one '@', a dot in the domain
bool valid_password(std::string_view s);  // 10–100 code points

// The key under which usernames and emails are unique: Unicode NFKC_Casefold, so names that
// differ only in case ("Ärger"/"ÄRGER", "straße"/"STRASSE") or in compatibility forms
// (fullwidth letters, ligatures, composed vs decomposed accents) are the same name.
std::string fold_case(std::string_view s);

}  // namespace roomcast
