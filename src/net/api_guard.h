// Transport rules for REST POSTs (docs/protocol.md "REST"), checked before a request reaches the
// API: a foreign Origin is refused (403 FOREIGN_ORIGIN: no login CSRF) and a body must be JSON
// (415 UNSUPPORTED_MEDIA_TYPE).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logic/rest_api.h"

namespace roomcast {

struct PostHeaders {
  std::string_view origin;  // empty when absent
  std::string_view host;
  std::string_view content_type;  // empty when absent
  bool has_content_type = false;
  std::size_t body_size = 0;
};

// The refusal for a POST, or nullopt when it may go on. `allowed_origins` as in Config.
std::optional<HttpResponse> refuse_post(const PostHeaders& h,
                                        const std::vector<std::string>& allowed_origins);

// True for "application/json" with any parameters ("; charset=utf-8"), in any case.
bool is_json_media_type(std::string_view content_type);

}  // namespace roomcast
