// Failed logins per account (or unknown email), docs/protocol.md "Limits": after `limit` failures
// within a minute every attempt for that email is refused (429) until the minute passes, so the
// answer reveals nothing about which accounts exist. In-process here; the distributed mode uses
// RedisFailedLogins so the count is cluster-wide.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/keyed_limiter.h"

namespace roomcast {

class FailedLogins {
 public:
  virtual ~FailedLogins() = default;
  // nullopt when a login for `key` (the folded email) may go ahead, else the time to wait.
  // Any thread.
  virtual std::optional<std::chrono::milliseconds> blocked(const std::string& key) = 0;
  // Counts one failed login for `key`. Any thread.
  virtual void record_failure(const std::string& key) = 0;
};

class LocalFailedLogins final : public FailedLogins {
 public:
  LocalFailedLogins(int limit, std::chrono::milliseconds window, std::size_t max_keys)
      : windows_(limit, window, max_keys) {}
  std::optional<std::chrono::milliseconds> blocked(const std::string& key) override {
    return windows_.blocked(key);
  }
  void record_failure(const std::string& key) override { windows_.record_failure(key); }

 private:
  FailureWindows windows_;
};

}  // namespace roomcast
