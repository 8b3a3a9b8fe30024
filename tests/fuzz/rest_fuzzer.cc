// libFuzzer target: REST bodies against a real Logic over SQLite (a temp file) and the
// in-process queue. Whatever the body, the answer is a known status, and every error carries a
// JSON object with an "id" — never a crash, a hang or an exception escaping to the server.
// Input: byte 0 picks the route, byte 1 the headers, the rest is the body.
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "common/config.h"
#include "logic/logic.h"
#include "logic/rest_api.h"
#include "queue/local_queue.h"
#include "store/sqlite_store.h"

namespace {
using namespace roomcast;

struct Server {
  Config config;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<LocalQueue> queue;
  std::unique_ptr<Logic> logic;
  std::unique_ptr<RestApi> rest;

  Server() {
    spdlog::set_level(spdlog::level::warn);  // one line per created account is noise here
    auto dir = std::filesystem::temp_directory_path() / "roomcast-rest-fuzzer";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    config.password_cost = "min";
    config.admin_token = "fuzz-admin-token";
    store = std::make_unique<SqliteStore>((dir / "fuzz.db").string());
    queue = std::make_unique<LocalQueue>(1, 1, 64);
    queue->start([](std::span<const QueueRecord>) {});  // records are accepted, then dropped
    logic = std::make_unique<Logic>(config, *store, *store, *queue);
    logic->init_default_rooms();
    rest = std::make_unique<RestApi>(*logic, config);
  }
};

const char* const kPaths[] = {"/api/create-account", "/api/login",     "/api/logout",
                              "/api/push/users",     "/api/push/room", "/api/push/broadcast",
                              "/api/nowhere",        "/api/ws"};
const char* const kMethods[] = {"POST", "GET", "PUT", "DELETE"};
const std::set<int> kStatuses = {200, 204, 400, 401, 403, 404, 405, 413, 415, 426, 429, 503};

void check_error_body(const HttpResponse& response) {
  boost::system::error_code ec;
  auto v = boost::json::parse(response.body, ec);
  if (ec || !v.is_object() || !v.get_object().contains("id") ||
      !v.get_object().at("id").is_string())
    __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server server;
  if (size < 2) return 0;
  HttpRequest request;
  request.path = kPaths[data[0] % std::size(kPaths)];
  request.method = kMethods[(data[0] >> 3) % std::size(kMethods)];
  if (data[1] & 1) request.authorization = "Bearer fuzz-admin-token";
  if (data[1] & 2) request.cookie = "sid=0123456789abcdef0123456789abcdef";
  request.body.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  HttpResponse response = server.rest->handle_and_wait(request);  // with the password step
  if (!kStatuses.count(response.status)) __builtin_trap();
  if (response.status >= 400) check_error_body(response);
  return 0;
}
