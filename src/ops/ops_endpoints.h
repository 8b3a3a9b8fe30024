// The operator endpoints of every role's HTTP listener:
//   GET /healthz  200 while the process serves (no token)
//   GET /readyz   200 when the node can do its job, else 503 with the reason (no token)
//   GET /metrics  Prometheus text format, only with `Authorization: Bearer <metrics_token>`:
//                 401 with a wrong or missing token, 404 when no metrics token is configured.
// None of them blocks: readiness is read from the ReadinessMonitor's last round. While the node
// is not ready, every /api/ request (and WebSocket upgrade) is refused at once with 503
// UNAVAILABLE and `Retry-After` instead of waiting on a dependency that does not answer.
#pragma once

#include <string>
#include <string_view>

#include "logic/rest_api.h"
#include "net/operator_endpoints.h"

namespace roomcast {

class ReadinessMonitor;

class OpsEndpoints final : public OperatorEndpoints {
 public:
  // `readiness` may be null (always ready); it must outlive this object.
  OpsEndpoints(std::string metrics_token, const ReadinessMonitor* readiness)
      : metrics_token_(std::move(metrics_token)), readiness_(readiness) {}

  static bool handles(std::string_view path) {
    return path == "/metrics" || path == "/healthz" || path == "/readyz";
  }
  // Any thread.
  bool ready() const override;
  // Whether handle() answers `path`: an operator endpoint, or any /api/ path while not ready.
  bool answers(std::string_view path) const override {
    return handles(path) || (path.starts_with("/api/") && !ready());
  }
  // Any thread; fast enough for an I/O loop.
  HttpResponse handle(const HttpRequest& request) const override;

 private:
  HttpResponse metrics(const HttpRequest& request) const;

  std::string metrics_token_;
  const ReadinessMonitor* readiness_;
};

}  // namespace roomcast
