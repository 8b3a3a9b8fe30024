// The one error a client is told about: a request it got wrong, answered with
// `serverError {code, message}` (or the REST error body). Thrown by Logic, carried over gRPC in
// the status details (proto/logic.proto ClientError), and caught where the answer is written.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace roomcast {

struct ClientError : std::runtime_error {
  ClientError(std::string c, const std::string& message, int64_t retry_after = 0)
      : std::runtime_error(message), code(std::move(c)), retry_after_ms(retry_after) {}
  std::string code;
  int64_t retry_after_ms;  // RATE_LIMITED: when to try again (`retryAfterMs`); else 0
};

}  // namespace roomcast
