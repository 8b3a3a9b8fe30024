#include "logic/presence_rest.h"

#include <charconv>
#include <optional>
#include <vector>

#include "common/room_id.h"

namespace roomcast {
namespace {

// The value of `key` in an undecoded query string ("a=1&b=2"), or nullopt.
std::optional<std::string_view> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    auto eq = item.find('=');
    if (item.substr(0, eq) == key) return eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// "1,2,3" (also "1%2C2%2C3") -> ids; nullopt when malformed.
std::optional<std::vector<int64_t>> parse_ids(std::string_view list) {
  std::vector<int64_t> ids;
  const char* p = list.data();
  const char* end = p + list.size();
  while (p < end) {
    int64_t id = 0;
    auto [next, ec] = std::from_chars(p, end, id);
    if (ec != std::errc() || id <= 0) return std::nullopt;
    ids.push_back(id);
    p = next;
    if (p == end) break;
    if (*p == ',')
      ++p;
    else if (end - p > 3 && std::string_view(p, 3) == "%2C")
      p += 3;
    else
      return std::nullopt;
    if (p == end) return std::nullopt;  // a trailing comma
  }
  return ids;
}

}  // namespace

HttpResponse PresenceRestApi::handle(const HttpRequest& r) {
  bool users_path = r.path == "/api/presence/users";
  if (!users_path && r.path != "/api/presence/room")
    return api_error(404, "NOT_FOUND", "no such endpoint");
  if (r.method != "GET" && r.method != "HEAD") {
    auto resp = api_error(405, "METHOD_NOT_ALLOWED", "use GET");
    resp.headers.emplace_back("Allow", "GET");
    return resp;
  }
  if (auto refused = require_admin(config_, r)) return *refused;
  return users_path ? users(r) : room(r);
}

HttpResponse PresenceRestApi::users(const HttpRequest& r) {
  auto list = query_param(r.query, "ids");
  auto ids = list ? parse_ids(*list) : std::nullopt;
  if (!ids || ids->empty())
    return api_error(400, "BAD_REQUEST", "ids must be a comma-separated list of user ids");
  if (ids->size() > kMaxIds)
    return api_error(400, "BAD_REQUEST", "at most " + std::to_string(kMaxIds) + " ids");
  std::vector<UserPresence> out;
  out.reserve(ids->size());
  for (auto id : *ids) {
    auto p = source_.user(id);
    p.id = id;
    out.push_back(p);
  }
  return {200, users_presence_json(out), {}};
}

HttpResponse PresenceRestApi::room(const HttpRequest& r) {
  auto room_id = query_param(r.query, "roomId");
  if (!room_id || !valid_room_id(*room_id))
    return api_error(400, "BAD_REQUEST", "roomId must be a room id");
  std::string id(*room_id);
  return {200, room_presence_json(id, source_.room_online(id)), {}};
}

}  // namespace roomcast
