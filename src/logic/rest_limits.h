// The REST abuse limits of docs/protocol.md: account creations and login attempts per client
// address (token buckets), failed logins per account (FailedLogins). Each check answers nullopt
// when the request may go ahead, else the 429 response to send (Retry-After, RATE_LIMITED).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/keyed_limiter.h"
#include "logic/failed_logins.h"

namespace roomcast {

struct HttpResponse;

class RestLimits {
 public:
  // `failed` counts failed logins (nullptr: in-process counting).
  RestLimits(const Config& config, std::unique_ptr<FailedLogins> failed);

  // Any thread. An empty address (unknown) is not limited; nor is any when per-address limits
  // are lifted (limits.per_address = 0).
  std::optional<HttpResponse> account_creation(const std::string& address);
  std::optional<HttpResponse> login_attempt(const std::string& address);
  // `account`: the folded email.
  std::optional<HttpResponse> account_locked(const std::string& account);
  void login_failed(const std::string& account) { failed_->record_failure(account); }

 private:
  std::optional<HttpResponse> per_address(KeyedTokenBuckets& buckets, const std::string& address,
                                          const char* what);

  bool per_address_on_;
  KeyedTokenBuckets creations_;
  KeyedTokenBuckets logins_;
  std::unique_ptr<FailedLogins> failed_;
};

// 429 {"id":"RATE_LIMITED","message","retryAfterMs"} with Retry-After in whole seconds.
HttpResponse rate_limited(std::chrono::milliseconds retry_after, const std::string& message);
// 503 {"id":"BUSY",...} with Retry-After: the password-hashing queue is full.
HttpResponse hashing_busy();

}  // namespace roomcast
