#include "net/api_guard.h"

#include <cctype>

#include "common/origin.h"

namespace roomcast {

bool is_json_media_type(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  constexpr std::string_view json = "application/json";
  if (type.size() != json.size()) return false;
  for (std::size_t i = 0; i < json.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(type[i])) != json[i]) return false;
  return true;
}

std::optional<HttpResponse> refuse_post(const PostHeaders& h,
                                        const std::vector<std::string>& allowed_origins) {
  if (!origin_allowed(h.origin, h.host, allowed_origins))
    return api_error(403, "FOREIGN_ORIGIN", "requests from another site are not accepted");
  // A body-less POST (logout) may omit the type; anything sent must be declared as JSON.
  bool declared_other = h.has_content_type && !is_json_media_type(h.content_type);
  bool undeclared_body = !h.has_content_type && h.body_size > 0;
  if (declared_other || undeclared_body)
    return api_error(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
  return std::nullopt;
}

}  // namespace roomcast
