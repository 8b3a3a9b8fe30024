// The REST part of PROTOCOL.md (accounts, sessions, server push API), independent of the HTTP
// transport: the server hands in a parsed request and writes back the response.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cookie.h"
#include "logic/logic.h"

namespace roomcast {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string body;
  std::string cookie;         // the Cookie header
  std::string authorization;  // the Authorization header
  std::string query;          // after '?', undecoded
};

struct HttpResponse {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
};

class RestApi {
 public:
  RestApi(Logic& logic, const Config& config) : logic_(logic), config_(config) {}
  // May block (storage, password hashing): call it off the I/O loops.
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse create_account(const HttpRequest& r);
  HttpResponse login(const HttpRequest& r);
  HttpResponse logout(const HttpRequest& r);
  HttpResponse push(const HttpRequest& r, std::string_view target);
  std::string session_cookie(const std::string& sid) const;

  Logic& logic_;
  const Config& config_;
};

HttpResponse api_error(int status, const std::string& id, const std::string& message);
// 401 unless the request carries the admin token (`Authorization: Bearer …`); nullopt when it does.
std::optional<HttpResponse> require_admin(const Config& config, const HttpRequest& r);

}  // namespace roomcast
