#include "ops/ops_endpoints.h"

#include <openssl/crypto.h>

#include "common/metrics.h"
#include "ops/readiness.h"

namespace roomcast {
namespace {

HttpResponse text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// Constant time in the token's content, so a wrong guess reveals nothing by its timing.
bool token_matches(std::string_view authorization, const std::string& token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return false;
  auto given = authorization.substr(kBearer.size());
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

}  // namespace

bool OpsEndpoints::ready() const {
  return !readiness_ || readiness_->state().ready;
}

HttpResponse OpsEndpoints::handle(const HttpRequest& request) const {
  if (!handles(request.path)) {
    auto state = readiness_ ? readiness_->state() : ReadinessMonitor::State{true, "ok"};
    auto r = api_error(503, "UNAVAILABLE", "this node cannot serve now (" + state.detail + ")");
    r.body.back() = ',';  // like the other 503 and 429 answers: retryAfterMs in the body
    r.body += "\"retryAfterMs\":1000}";
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    auto r = text(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (request.path == "/healthz") return text(200, "ok\n");
  if (request.path == "/readyz") {
    if (!readiness_) return text(200, "ok\n");
    auto state = readiness_->state();
    return text(state.ready ? 200 : 503, state.detail + "\n");
  }
  return metrics(request);
}

HttpResponse OpsEndpoints::metrics(const HttpRequest& request) const {
  // Without a token the endpoint does not exist: nothing to guess at.
  if (metrics_token_.empty()) return text(404, "not found\n");
  if (!token_matches(request.authorization, metrics_token_)) {
    auto r = text(401, "metrics token required\n");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"metrics\"");
    return r;
  }
  auto r = text(200, Metrics::get().render());
  r.headers.front().second = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

}  // namespace roomcast
