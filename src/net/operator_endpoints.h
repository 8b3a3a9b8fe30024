// What the HTTP listener needs of a node's operator endpoints (/healthz, /readyz, /metrics):
// the listener serves them without knowing how readiness or metrics are computed
// (ops/ops_endpoints.h implements it), so net does not depend on ops.
#pragma once

#include <string_view>

#include "logic/rest_api.h"

namespace roomcast {

class OperatorEndpoints {
 public:
  virtual ~OperatorEndpoints() = default;
  // Whether the node can do its job; while not, new work is refused at once. Any thread.
  virtual bool ready() const = 0;
  // Whether handle() answers `path`. Any thread.
  virtual bool answers(std::string_view path) const = 0;
  // Any thread; fast enough for an I/O loop.
  virtual HttpResponse handle(const HttpRequest& request) const = 0;
};

}  // namespace roomcast
