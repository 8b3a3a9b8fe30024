#include "logic/redis_failed_logins.h"
#include "store/redis_keys.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

namespace roomcast {

std::string RedisFailedLogins::redis_key(const std::string& key) const {
  // Hashed: emails are user input, the key stays short and reveals no address in Redis.
  unsigned char out[16];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return redis_keys::failed_logins(hex);
}

std::optional<std::chrono::milliseconds> RedisFailedLogins::blocked(const std::string& key) {
  try {
    auto k = redis_key(key);
    auto replies = redis_.pipeline({{"GET", k}, {"PTTL", k}});
    auto count = replies.at(0).string();
    long long ttl = replies.at(1).integer;
    if (!count || std::stoll(*count) < limit_ || ttl <= 0) return std::nullopt;
    return std::chrono::milliseconds(ttl);
  } catch (const std::exception& e) {
    spdlog::warn("logic: failed-login count unavailable ({}): attempt allowed", e.what());
    return std::nullopt;
  }
}

void RedisFailedLogins::record_failure(const std::string& key) {
  try {
    auto k = redis_key(key);
    // The window opens at the first failure (NX); INCR keeps the key's expiry.
    auto window = std::to_string(window_.count());
    redis_.pipeline({{"SET", k, "0", "PX", window, "NX"}, {"INCR", k}}, false);
  } catch (const std::exception& e) {
    spdlog::warn("logic: failed login not counted ({})", e.what());
  }
}

}  // namespace roomcast
