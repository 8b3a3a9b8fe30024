// What the WebSocket connections of one I/O loop share, so that no connection holds its own
// copy: the limits they enforce and the buffer every read on the loop goes through (a
// connection keeps only the bytes of a partial frame). Owned by the loop's shard; touched only
// from that loop.
#pragma once

#include <cstddef>
#include <vector>

#include "common/config.h"

namespace roomcast {

struct WsLoopContext {
  static constexpr std::size_t kScratchBytes = 64 * 1024;

  explicit WsLoopContext(const Limits& l) : limits(l), scratch(kScratchBytes) {}

  const Limits& limits;
  std::vector<char> scratch;
};

}  // namespace roomcast
