// The Origin rule of docs/protocol.md, shared by the WebSocket handshake and REST POSTs: an Origin
// is foreign when its host:port differs from the request's Host and it is not in the allow-list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

// True when a request with this Origin (empty: not a browser, allowed) and Host may proceed.
// `allowed` holds extra origins ("*" allows any).
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed);

}  // namespace roomcast
