// The admin presence API for backends (docs/protocol.md): GET /api/presence/users?ids=1,2,3 and
// GET /api/presence/room?roomId=…, with the admin token like the server push API.
#pragma once

#include <functional>
#include <string>

#include "common/presence_events.h"
#include "logic/rest_api.h"

namespace roomcast {

class PresenceRestApi {
 public:
  // Where the answers come from: the comet's tracker (standalone) or the cluster's registry.
  struct Source {
    std::function<UserPresence(int64_t user_id)> user;
    std::function<int64_t(const std::string& room_id)> room_online;
  };
  static constexpr std::size_t kMaxIds = 1000;

  PresenceRestApi(const Config& config, Source source)
      : config_(config), source_(std::move(source)) {}

  static bool handles(std::string_view path) { return path.starts_with("/api/presence/"); }
  // Any thread; may block when the source does.
  HttpResponse handle(const HttpRequest& r);

 private:
  HttpResponse users(const HttpRequest& r);
  HttpResponse room(const HttpRequest& r);

  const Config& config_;
  Source source_;
};

}  // namespace roomcast
