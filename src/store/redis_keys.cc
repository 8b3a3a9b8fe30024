#include "store/redis_keys.h"

namespace roomcast::redis_keys {
namespace {
std::string join(std::string_view prefix, std::string_view kind, std::string_view id) {
  std::string key;
  key.reserve(prefix.size() + kind.size() + id.size());
  key.append(prefix).append(kind).append(id);
  return key;
}
// A room's history keys share the hash tag {room} (one Redis Cluster slot for the scripts).
std::string tagged(std::string_view prefix, std::string_view kind, std::string_view room_id) {
  return join(prefix, kind, "{" + std::string(room_id) + "}");
}
}  // namespace

std::string session(std::string_view sid, std::string_view prefix) {
  return join(prefix, "sess:", sid);
}
std::string window(std::string_view counter, std::string_view prefix) {
  return join(prefix, "win:", counter);
}
std::string failed_logins(std::string_view email_hash_hex) {
  return join(kPrefix, "failed-login:", email_hash_hex);
}

std::string history(std::string_view room_id, std::string_view prefix) {
  return tagged(prefix, "h:", room_id);
}
std::string history_meta(std::string_view room_id, std::string_view prefix) {
  return tagged(prefix, "hm:", room_id);
}
std::string history_last(std::string_view room_id, std::string_view prefix) {
  return tagged(prefix, "hl:", room_id);
}
std::string history_lock(std::string_view room_id, std::string_view prefix) {
  return tagged(prefix, "hk:", room_id);
}
std::string room(std::string_view room_id, std::string_view prefix) {
  return join(prefix, "room:", room_id);
}
std::string memberships(int64_t user_id, std::string_view prefix) {
  return join(prefix, "mem:", std::to_string(user_id));
}
std::string memberships_generation(int64_t user_id, std::string_view prefix) {
  return join(prefix, "memgen:", std::to_string(user_id));
}

std::string node(std::string_view role, std::string_view node_id) {
  return join(kPrefix, "node:", std::string(role) + ":" + std::string(node_id));
}
std::string nodes(std::string_view role) {
  return join(kPrefix, "nodes:", role);
}
std::string registry_epoch() {
  return join(kPrefix, "registry:", "epoch");
}

std::string room_route(std::string_view room_id) {
  return join(kPrefix, "route:room:", room_id);
}
std::string user_route(int64_t user_id) {
  return join(kPrefix, "route:user:", std::to_string(user_id));
}
std::string route_mark(std::string_view comet_id) {
  return join(kPrefix, "route:mark:", comet_id);
}
std::string route_epoch() {
  return join(kPrefix, "route:", "epoch");
}

std::string user_connections(int64_t user_id, std::string_view prefix) {
  return join(prefix, "uconn:", std::to_string(user_id));
}
std::string evictions(std::string_view comet_id, std::string_view prefix) {
  return join(prefix, "evict:", comet_id);
}

std::string presence_rooms(std::string_view comet_id) {
  return join(kPrefix, "presence:rooms:", comet_id);
}
std::string presence_users(std::string_view comet_id) {
  return join(kPrefix, "presence:users:", comet_id);
}
std::string presence_comets(std::string_view prefix) {
  return join(prefix, "presence:", "comets");
}
std::string presence_held(std::string_view comet_id, std::string_view prefix) {
  return join(prefix, "presence:held:", comet_id);
}
std::string presence_holders(std::string_view prefix) {
  return join(prefix, "presence:", "holders");
}
std::string presence_holding(std::string_view prefix) {
  return join(prefix, "presence:", "holding");
}
std::string presence_epochs(std::string_view prefix) {
  return join(prefix, "presence:", "epochs");
}

}  // namespace roomcast::redis_keys
