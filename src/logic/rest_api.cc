#include "logic/rest_api.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "common/json_write.h"
#include "common/room_id.h"
#include "common/validation.h"

namespace roomcast {
namespace json = boost::json;

HttpResponse api_error(int status, const std::string& id, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = "{\"id\":";
  append_json_string(r.body, id);
  r.body += ",\"message\":";
  append_json_string(r.body, message);
  r.body += '}';
  return r;
}

namespace {

// A JSON object body, or nullopt when the body is not one.
std::optional<json::object> parse_object(const std::string& body) {
  std::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  auto v = json::parse(body, ec, {}, opts);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

const json::string* string_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? &it->value().get_string() : nullptr;
}

std::optional<int64_t> int_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_int64()) return std::nullopt;
  return it->value().get_int64();
}

HttpResponse bad_request(const std::string& message) {
  return api_error(400, "BAD_REQUEST", message);
}

}  // namespace

RestApi::RestApi(Logic& logic, const Config& config, std::unique_ptr<FailedLogins> failed_logins)
    : logic_(logic),
      config_(config),
      limits_(config, std::move(failed_logins)),
      hashing_(config.password_threads, config.limits.hash_queue_max) {}

std::string RestApi::session_cookie(const std::string& sid) const {
  std::string secure = config_.cookie_secure ? "; Secure" : "";
  if (sid.empty()) return "sid=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" + secure;
  return "sid=" + sid + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
         std::to_string(int64_t{config_.session_ttl_hours} * 3600) + secure;
}

// 204 No Content (servertech-chat's success status) setting the session cookie, or clearing it
// for an empty sid.
HttpResponse RestApi::session_response(const std::string& sid) const {
  HttpResponse resp;
  resp.status = 204;
  resp.body.clear();
  resp.headers.emplace_back("Set-Cookie", session_cookie(sid));
  return resp;
}

HttpResponse RestApi::handle(const HttpRequest& r) {
  if (extension_)
    if (auto out = extension_(r)) return std::move(*out);
  struct Route {
    std::string_view path;
    std::string_view method;
  };
  static constexpr Route routes[] = {
      {"/api/create-account", "POST"}, {"/api/login", "POST"},     {"/api/logout", "POST"},
      {"/api/push/users", "POST"},     {"/api/push/room", "POST"}, {"/api/push/broadcast", "POST"},
      {"/api/health", "GET"},
  };
  const Route* route = nullptr;
  for (auto& candidate : routes)
    if (candidate.path == r.path) route = &candidate;
  if (!route) return api_error(404, "NOT_FOUND", "no such endpoint");
  if (r.method != route->method && !(route->method == "GET" && r.method == "HEAD")) {
    auto resp = api_error(405, "METHOD_NOT_ALLOWED", "use " + std::string(route->method));
    resp.headers.emplace_back("Allow", std::string(route->method));
    return resp;
  }
  try {
    if (r.path == "/api/create-account") return create_account(r);
    if (r.path == "/api/login") return login(r);
    if (r.path == "/api/logout") return logout(r);
    if (r.path == "/api/health") return {200, "{\"status\":\"ok\"}"};
    return push(r, r.path.substr(std::string_view("/api/push/").size()));
  } catch (const std::exception& e) {
    spdlog::error("rest: {} {} failed: {}", r.method, r.path, e.what());
    return api_error(500, "INTERNAL", "internal error");
  }
}

HttpResponse RestApi::handle_and_wait(const HttpRequest& r) {
  auto out = handle(r);
  if (!out.hash_step) return out;
  try {
    auto finished = hashing_.run_and_wait(std::move(out.hash_step));
    return finished ? std::move(*finished) : hashing_busy();
  } catch (const std::exception& e) {
    spdlog::error("rest: {} {} failed: {}", r.method, r.path, e.what());
    return api_error(500, "INTERNAL", "internal error");
  }
}

HttpResponse RestApi::create_account(const HttpRequest& r) {
  auto body = parse_object(r.body);
  if (!body) return bad_request("the body must be a JSON object");
  auto* username = string_field(*body, "username");
  auto* email = string_field(*body, "email");
  auto* password = string_field(*body, "password");
  if (!username || !valid_username(*username))
    return bad_request("username must be 4-100 characters without control characters");
  if (!email || !valid_email(*email)) return bad_request("email is not a valid address");
  if (!password || !valid_password(*password))
    return bad_request("password must be 10-100 characters");
  if (auto limited = limits_.account_creation(r.client_address)) return std::move(*limited);
  // Uniqueness first: a taken name costs no hash. create_account decides a race.
  auto taken = logic_.check_new_account(std::string(*username), std::string(*email));
  if (!taken.error_id.empty()) return api_error(400, taken.error_id, taken.message);
  HttpResponse deferred;
  deferred.hash_step = [this, u = std::string(*username), e = std::string(*email),
                        p = std::string(*password)] {
    auto result = logic_.create_account(u, e, p);
    if (!result.error_id.empty()) return api_error(400, result.error_id, result.message);
    return session_response(result.sid);
  };
  return deferred;
}

HttpResponse RestApi::login(const HttpRequest& r) {
  auto body = parse_object(r.body);
  if (!body) return bad_request("the body must be a JSON object");
  auto* email = string_field(*body, "email");
  auto* password = string_field(*body, "password");
  // The same rules as create-account: a value no account could have is a malformed request.
  if (!email || !valid_email(*email)) return bad_request("email is not a valid address");
  if (!password || !valid_password(*password))
    return bad_request("password must be 10-100 characters");
  if (auto limited = limits_.login_attempt(r.client_address)) return std::move(*limited);
  auto account = fold_case(*email);
  if (auto locked = limits_.account_locked(account)) return std::move(*locked);
  HttpResponse deferred;
  deferred.hash_step = [this, e = std::string(*email), p = std::string(*password),
                        account = std::move(account)] {
    auto result = logic_.login(e, p);
    if (!result.error_id.empty()) {
      limits_.login_failed(account);
      return api_error(400, result.error_id, result.message);
    }
    return session_response(result.sid);
  };
  return deferred;
}

HttpResponse RestApi::logout(const HttpRequest& r) {
  logic_.logout(cookie_value(r.cookie, "sid"));
  return session_response("");
}

std::optional<HttpResponse> require_admin(const Config& config, const HttpRequest& r) {
  const std::string& token = config.admin_token;
  std::string_view auth = r.authorization;
  constexpr std::string_view bearer = "Bearer ";
  bool authorized = !token.empty() && auth.size() == bearer.size() + token.size() &&
                    auth.substr(0, bearer.size()) == bearer &&
                    sodium_memcmp(auth.data() + bearer.size(), token.data(), token.size()) == 0;
  if (authorized) return std::nullopt;
  return api_error(401, "UNAUTHORIZED",
                   token.empty() ? "the server push API is disabled (no admin token)"
                                 : "a valid admin token is required");
}

HttpResponse RestApi::push(const HttpRequest& r, std::string_view target) {
  if (auto refused = require_admin(config_, r)) return *refused;
  auto body = parse_object(r.body);
  if (!body) return bad_request("the body must be a JSON object");
  auto op = int_field(*body, "op");
  if (!op) return bad_request("op must be an integer");
  auto it = body->find("body");
  if (it == body->end()) return bad_request("body is required");
  std::string payload = json::serialize(it->value());
  if (target == "users") {
    auto ids = body->find("userIds");
    if (ids == body->end() || !ids->value().is_array())
      return bad_request("userIds must be an array");
    std::vector<int64_t> user_ids;
    for (auto& v : ids->value().get_array()) {
      if (!v.is_int64()) return bad_request("userIds must hold integers");
      user_ids.push_back(v.get_int64());
    }
    logic_.push_users(user_ids, *op, payload);
  } else if (target == "room") {
    auto* room = string_field(*body, "roomId");
    // The room id rule of the Limits table: a malformed id never reaches the queue.
    if (!room || !valid_room_id(*room))
      return bad_request("roomId must be 1-64 characters of [A-Za-z0-9_.-]");
    logic_.push_room(std::string(*room), *op, payload);
  } else {
    logic_.push_broadcast(*op, payload);
  }
  return {};
}

}  // namespace roomcast
