// The REST part of docs/protocol.md (accounts, sessions, server push API), independent of the HTTP
// transport: the server hands in a parsed request and writes back the response.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cookie.h"
#include "logic/logic.h"
#include "logic/rest_limits.h"
#include "store/password_pool.h"

namespace roomcast {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string body;
  std::string cookie;          // the Cookie header
  std::string authorization;   // the Authorization header
  std::string query;           // after '?', undecoded
  std::string client_address;  // for per-address limits; empty when unknown (not limited)
};

struct HttpResponse {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  HttpResponse() = default;
  HttpResponse(int s, std::string b, Headers h = {})
      : status(s), body(std::move(b)), headers(std::move(h)) {}

  int status = 200;
  std::string body = "{}";
  Headers headers;  // besides Content-Type
  // Set when the answer needs a password hash: run it on the PasswordPool and send what it
  // returns instead (503 hashing_busy() when the pool refuses). Status and body are unused then.
  std::function<HttpResponse()> hash_step;
};

class RestApi {
 public:
  // `failed_logins`: where failed logins are counted (nullptr: in this process).
  RestApi(Logic& logic, const Config& config,
          std::unique_ptr<FailedLogins> failed_logins = nullptr);
  // May block on storage (call it off the I/O loops) but never hashes a password: a response
  // with `hash_step` must be finished on password_pool(). Any thread.
  HttpResponse handle(const HttpRequest& request);
  // handle() plus the hash step, waiting for it: for callers that may block (gRPC threads).
  HttpResponse handle_and_wait(const HttpRequest& request);
  PasswordPool& password_pool() { return hashing_; }
  // More endpoints (e.g. the admin presence API), asked first; nullopt passes the request on.
  // Set before serving.
  using Extension = std::function<std::optional<HttpResponse>(const HttpRequest&)>;
  void set_extension(Extension extension) { extension_ = std::move(extension); }

 private:
  HttpResponse create_account(const HttpRequest& r);
  HttpResponse login(const HttpRequest& r);
  HttpResponse logout(const HttpRequest& r);
  HttpResponse push(const HttpRequest& r, std::string_view target);
  std::string session_cookie(const std::string& sid) const;
  HttpResponse session_response(const std::string& sid) const;

  Logic& logic_;
  const Config& config_;
  RestLimits limits_;
  PasswordPool hashing_;
  Extension extension_;
};

HttpResponse api_error(int status, const std::string& id, const std::string& message);
// 401 unless the request carries the admin token (`Authorization: Bearer …`); nullopt when it does.
std::optional<HttpResponse> require_admin(const Config& config, const HttpRequest& r);

}  // namespace roomcast
