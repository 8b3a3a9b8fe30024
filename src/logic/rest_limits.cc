#include "logic/rest_limits.h"

#include <algorithm>

#include "common/json_write.h"
#include "logic/rest_api.h"

namespace roomcast {

using std::chrono::milliseconds;

namespace {

HttpResponse retry_later(int status, const char* id, milliseconds retry_after,
                         const std::string& message) {
  HttpResponse r = api_error(status, id, message);
  r.body.pop_back();  // '}'
  r.body += ",\"retryAfterMs\":" + std::to_string(retry_after.count()) + "}";
  auto seconds = std::max<int64_t>(1, (retry_after.count() + 999) / 1000);
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

}  // namespace

HttpResponse rate_limited(milliseconds retry_after, const std::string& message) {
  return retry_later(429, "RATE_LIMITED", retry_after, message);
}

HttpResponse hashing_busy() {
  return retry_later(503, "BUSY", milliseconds(1000),
                     "the server is busy with sign-ups and logins; retry shortly");
}

RestLimits::RestLimits(const Config& config, std::unique_ptr<FailedLogins> failed)
    : per_address_on_(config.limits.per_address != 0),
      creations_(config.limits.account_creations_per_min, config.limits.account_creations_burst,
                 config.limits.tracked_keys_max),
      logins_(config.limits.logins_per_min, config.limits.logins_burst,
              config.limits.tracked_keys_max),
      failed_(failed ? std::move(failed)
                     : std::make_unique<LocalFailedLogins>(config.limits.failed_logins_per_min,
                                                           milliseconds(60000),
                                                           config.limits.tracked_keys_max)) {}

std::optional<HttpResponse> RestLimits::per_address(KeyedTokenBuckets& buckets,
                                                    const std::string& address, const char* what) {
  if (!per_address_on_ || address.empty()) return std::nullopt;
  auto wait = buckets.take(address);
  if (!wait) return std::nullopt;
  return rate_limited(*wait, std::string("too many ") + what + " from this address; retry later");
}

std::optional<HttpResponse> RestLimits::account_creation(const std::string& address) {
  return per_address(creations_, address, "sign-ups");
}

std::optional<HttpResponse> RestLimits::login_attempt(const std::string& address) {
  return per_address(logins_, address, "login attempts");
}

std::optional<HttpResponse> RestLimits::account_locked(const std::string& account) {
  auto wait = failed_->blocked(account);
  if (!wait) return std::nullopt;
  return rate_limited(*wait, "too many failed logins for this account; retry later");
}

}  // namespace roomcast
