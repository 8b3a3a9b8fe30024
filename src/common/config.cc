#include "common/config.h"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>

namespace roomcast {
namespace {

// One scalar setting known by a TOML key, an environment variable and a flag.
struct Setting {
  std::string key;  // dotted TOML path, e.g. "limits.max_frame_bytes"
  std::string help;
  std::function<void(const std::string&)> set;
};

template <class T>
std::function<void(const std::string&)> setter(T& target) {
  return [&target](const std::string& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      target = v;
    } else {
      // The whole value must be a number: "10s" or "1e" is a mistake, not 10 or 1.
      std::size_t used = 0;
      if constexpr (std::is_same_v<T, double>)
        target = std::stod(v, &used);
      else
        target = static_cast<T>(std::stoll(v, &used));
      if (used != v.size()) throw std::invalid_argument("not a number: " + v);
    }
  };
}

std::string env_name(const std::string& key) {
  std::string name = "ROOMCAST_";
  for (char c : key) name += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

std::string flag_name(const std::string& key) {
  std::string name = "--";
  // "limits.max_frame_bytes" -> "--max-frame-bytes": the section prefix is dropped for brevity.
  auto dot = key.rfind('.');
  for (char c : key.substr(dot == std::string::npos ? 0 : dot + 1)) name += c == '_' ? '-' : c;
  return name;
}

// The HTTP and REST abuse limits (docs/protocol.md "Limits") and the settings that go with them.
std::vector<Setting> http_settings(Config& c) {
  auto& l = c.limits;
  return {
      {"cookie_secure", "1: session cookie with Secure (HTTPS)", setter(c.cookie_secure)},
      {"password_threads", "threads of the password-hashing pool", setter(c.password_threads)},
      {"limits.http_head_max_bytes", "largest HTTP request head (431 past it)",
       setter(l.http_head_max_bytes)},
      {"limits.http_head_timeout_ms", "time from a request head's first byte to its end",
       setter(l.http_head_timeout_ms)},
      {"limits.http_idle_timeout_ms", "idle keep-alive HTTP connection",
       setter(l.http_idle_timeout_ms)},
      {"limits.http_body_max_bytes", "largest HTTP body (413 past it)",
       setter(l.http_body_max_bytes)},
      {"limits.per_address", "0: lift the per-client-address limits (load tests)",
       setter(l.per_address)},
      {"limits.connections_per_address", "open connections per client address (429)",
       setter(l.connections_per_address)},
      {"limits.account_creations_per_min", "account creations per address per minute (429)",
       setter(l.account_creations_per_min)},
      {"limits.account_creations_burst", "account creation burst per address",
       setter(l.account_creations_burst)},
      {"limits.logins_per_min", "login attempts per address per minute (429)",
       setter(l.logins_per_min)},
      {"limits.logins_burst", "login burst per address", setter(l.logins_burst)},
      {"limits.failed_logins_per_min", "failed logins per account or email per minute (429)",
       setter(l.failed_logins_per_min)},
      {"limits.hash_queue_max", "password hashes waiting (503 past it)", setter(l.hash_queue_max)},
      {"limits.tracked_keys_max", "entries kept per rate-limiter table",
       setter(l.tracked_keys_max)},
  };
}

// Every process: listeners, storage, threads, sessions, logs.
std::vector<Setting> process_settings(Config& c) {
  return {
      {"listen", "public HOST:PORT (use 0.0.0.0:8080 for all interfaces)", setter(c.listen)},
      {"data_dir", "directory of the embedded database", setter(c.data_dir)},
      {"web_root", "directory of the static web client", setter(c.web_root)},
      {"admin_token", "bearer token of the server push API (empty: API off)",
       setter(c.admin_token)},
      {"io_threads", "I/O loops (0: one per core)", setter(c.io_threads)},
      {"blocking_threads", "threads for storage and password hashing", setter(c.blocking_threads)},
      {"comet_rpc_threads", "comet: threads waiting on Logic calls (requests in flight)",
       setter(c.comet_rpc_threads)},
      {"comet_post_calls", "comet: clientMessages batches in flight to Logic",
       setter(c.comet_post_calls)},
      {"comet_post_batch_max", "comet: most clientMessages events in one batch",
       setter(c.comet_post_batch_max)},
      {"queue_partitions", "partitions of the embedded queue", setter(c.queue_partitions)},
      {"queue_max_records", "records per partition of the embedded queue (then senders wait)",
       setter(c.queue_max_records)},
      {"job_batch_window_ms", "how long Job merges a room's messages into one push",
       setter(c.job_batch_window_ms)},
      {"job_batch_max", "most records Job takes in one batch", setter(c.job_batch_max)},
      {"session_ttl_hours", "session lifetime", setter(c.session_ttl_hours)},
      {"password_cost", "KDF cost: interactive | moderate | min", setter(c.password_cost)},
      {"log_level", "trace | debug | info | warn | error", setter(c.log_level)},
  };
}

// The distributed roles: registry, Redis, MySQL, Kafka, internal TLS, operations.
std::vector<Setting> distributed_settings(Config& c) {
  return {
      {"node_id", "node id in the registry (default: role-random)", setter(c.node_id)},
      {"grpc_listen", "internal gRPC HOST:PORT", setter(c.grpc_listen)},
      {"advertise_host", "host peers use to reach this node", setter(c.advertise_host)},
      {"logic_http_listen", "Logic REST HOST:PORT", setter(c.logic_http_listen)},
      {"redis", "Redis HOST:PORT", setter(c.redis)},
      {"redis_user", "Redis ACL user (empty: default user)", setter(c.redis_user)},
      {"redis_password", "Redis password (prefer the environment)", setter(c.redis_password)},
      {"internal_tls_dir", "ca.pem, node.pem, node.key for mTLS between roles",
       setter(c.internal_tls_dir)},
      {"insecure_internal", "1: allow plaintext gRPC and Redis without a password",
       setter(c.insecure_internal)},
      {"mysql_host", "MySQL/MariaDB host", setter(c.mysql_host)},
      {"mysql_port", "MySQL/MariaDB port", setter(c.mysql_port)},
      {"mysql_user", "MySQL/MariaDB user", setter(c.mysql_user)},
      {"mysql_password", "MySQL/MariaDB password (prefer the environment)",
       setter(c.mysql_password)},
      {"mysql_database", "MySQL/MariaDB database", setter(c.mysql_database)},
      {"mysql_pool_max", "most pooled MySQL connections", setter(c.mysql_pool_max)},
      {"kafka_brokers", "Kafka bootstrap servers", setter(c.kafka_brokers)},
      {"kafka_topic", "Kafka topic of chat and push records", setter(c.kafka_topic)},
      {"kafka_presence_topic", "Kafka topic of online/offline transitions (empty: none)",
       setter(c.kafka_presence_topic)},
      {"kafka_group", "Kafka consumer group of the jobs", setter(c.kafka_group)},
      {"kafka_session_timeout_ms", "Kafka: a dead Job's partitions move after this",
       setter(c.kafka_session_timeout_ms)},
      {"kafka_heartbeat_ms", "Kafka consumer heartbeat interval (below the session timeout)",
       setter(c.kafka_heartbeat_ms)},
      {"kafka_message_timeout_ms", "Kafka: an unacknowledged record fails after this",
       setter(c.kafka_message_timeout_ms)},
      {"kafka_props", "other librdkafka properties as key=value,key=value", setter(c.kafka_props)},
      {"registry_ttl_ms", "registry heartbeat TTL", setter(c.registry_ttl_ms)},
      {"metrics_token", "bearer token of /metrics (empty: /metrics answers 404)",
       setter(c.metrics_token)},
      {"http_listen", "job: HOST:PORT of /metrics, /healthz, /readyz", setter(c.http_listen)},
      {"readiness_timeout_ms", "/readyz answers 503 when a dependency fails or hangs this long",
       setter(c.readiness_timeout_ms)},
      {"drain_window_ms", "comet: SIGTERM spreads the clients' reconnects over this window",
       setter(c.drain_window_ms)},
      {"log_format", "text | json (one JSON object per line)", setter(c.log_format)},
  };
}

// The client-facing limits (docs/protocol.md, Limits).
std::vector<Setting> limits_settings(Config& c) {
  auto& l = c.limits;
  return {
      {"limits.max_frame_bytes", "largest WebSocket frame (close 1009 past it)",
       setter(l.max_frame_bytes)},
      {"limits.max_content_bytes", "largest message content in UTF-8 bytes",
       setter(l.max_content_bytes)},
      {"limits.rate_per_sec", "messages per connection per second", setter(l.rate_per_sec)},
      {"limits.rate_burst", "message burst per connection", setter(l.rate_burst)},
      {"limits.messages_per_event_max",
       "messages in one clientMessages event (BAD_REQUEST past it)",
       setter(l.messages_per_event_max)},
      {"limits.history_page", "default history page", setter(l.history_page)},
      {"limits.history_page_max", "largest history page", setter(l.history_page_max)},
      {"limits.resume_replay_max", "messages per room in a resume answer",
       setter(l.resume_replay_max)},
      {"limits.page_max_bytes", "bytes of messages per page (history, hello, resume)",
       setter(l.page_max_bytes)},
      {"limits.outbound_max_bytes", "outbound queue bytes per connection (close 1013 past it)",
       setter(l.outbound_max_bytes)},
      {"limits.outbound_max_events", "outbound queue events per connection",
       setter(l.outbound_max_events)},
      {"limits.ping_interval_ms", "server ping interval", setter(l.ping_interval_ms)},
      {"limits.idle_timeout_ms", "silence before close 1001", setter(l.idle_timeout_ms)},
      {"limits.request_rate_per_sec", "other requests (history, rooms, resume) per second",
       setter(l.request_rate_per_sec)},
      {"limits.request_burst", "other requests burst per connection", setter(l.request_burst)},
      {"limits.rooms_per_user_max", "rooms a user belongs to (LIMIT_REACHED past it; 0: no cap)",
       setter(l.rooms_per_user_max)},
      {"limits.room_creations_per_minute", "rooms a user may create per minute (0: no limit)",
       setter(l.room_creations_per_minute)},
      {"limits.connections_per_user_max",
       "connections per user (the oldest is closed with 4008; 0: none)",
       setter(l.connections_per_user_max)},
  };
}

// Presence, typing and read state.
std::vector<Setting> presence_settings(Config& c) {
  auto& p = c.presence;
  return {
      {"presence_grace_ms", "online after the last connection closed", setter(p.grace_ms)},
      {"presence_window_ms", "serverPresence at most once per room per window",
       setter(p.window_ms)},
      {"presence_large_window_ms", "serverPresence interval in rooms past the limit",
       setter(p.large_window_ms)},
      {"presence_room_limit", "members past which serverPresence carries counts only",
       setter(p.room_limit)},
      {"presence_typing_interval_ms", "serverTyping at most once per user and room per interval",
       setter(p.typing_interval_ms)},
      {"presence_member_count_ttl_ms", "how long a room's member count is cached",
       setter(p.member_count_ttl_ms)},
      {"presence_read_state_window_ms", "serverReadState coalescing per user and room",
       setter(p.read_state_window_ms)},
      {"presence_members_page", "members per serverRoomMembers page", setter(p.members_page)},
  };
}

std::vector<Setting> settings(Config& c) {
  std::vector<Setting> all;
  for (auto* part : {&process_settings, &distributed_settings, &limits_settings, &presence_settings,
                     &http_settings})
    for (auto& s : part(c)) all.push_back(std::move(s));
  return all;
}

std::optional<std::string> toml_scalar(const toml::table& t, const std::string& key) {
  auto node = t.at_path(key);
  if (!node) return std::nullopt;
  if (auto s = node.value<std::string>()) return *s;
  if (auto i = node.value<int64_t>()) return std::to_string(*i);
  if (auto d = node.value<double>()) return std::to_string(*d);
  if (auto b = node.value<bool>()) return *b ? "1" : "0";
  throw std::runtime_error("config key " + key + " has an unsupported type");
}

// Every key of the file must be a known setting: a misspelt limit silently left at its default
// is the kind of mistake an operator finds only under attack.
void refuse_unknown_keys(const toml::table& t, const std::string& prefix,
                         const std::vector<Setting>& all) {
  for (auto& [k, v] : t) {
    std::string key = prefix + std::string(k.str());
    if (key == "default_rooms" || key == "allowed_origins" || key == "trusted_proxies") continue;
    if (auto* sub = v.as_table()) {
      refuse_unknown_keys(*sub, key + ".", all);
      continue;
    }
    bool known = std::any_of(all.begin(), all.end(), [&](auto& s) { return s.key == key; });
    if (!known) throw std::runtime_error("unknown config key " + key);
  }
}

void load_file(const std::string& path, Config& c, std::vector<Setting>& all) {
  toml::table t = toml::parse_file(path);
  refuse_unknown_keys(t, "", all);
  for (auto& s : all)
    if (auto v = toml_scalar(t, s.key)) s.set(*v);
  if (auto rooms = t["default_rooms"].as_array()) {
    c.default_rooms.clear();
    for (auto& r : *rooms) {
      auto* tbl = r.as_table();
      if (!tbl) throw std::runtime_error("default_rooms entries must be tables {id, name}");
      c.default_rooms.push_back(
          {(*tbl)["id"].value_or(std::string{}), (*tbl)["name"].value_or(std::string{})});
      if (c.default_rooms.back().id.empty())
        throw std::runtime_error("default_rooms entry without id");
    }
  }
  for (auto [key, list] : {std::pair{"allowed_origins", &c.allowed_origins},
                           std::pair{"trusted_proxies", &c.trusted_proxies}}) {
    if (auto items = t[key].as_array()) {
      list->clear();
      for (auto& o : *items)
        if (auto s = o.value<std::string>()) list->push_back(*s);
    }
  }
}

// "id:Name,id2:Name 2"
std::vector<RoomConfig> parse_rooms(const std::string& spec) {
  std::vector<RoomConfig> rooms;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    auto item = spec.substr(start, end - start);
    if (!item.empty()) {
      auto colon = item.find(':');
      rooms.push_back(colon == std::string::npos
                          ? RoomConfig{item, item}
                          : RoomConfig{item.substr(0, colon), item.substr(colon + 1)});
    }
    start = end + 1;
  }
  return rooms;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string parse_command_line(int argc, char** argv, Config& config) {
  CLI::App app{"roomcast: real-time chat-room push server"};
  app.require_subcommand(1);
  std::string config_file;
  std::string rooms_flag, origins_flag, proxies_flag;
  auto all = settings(config);
  std::vector<std::string> flag_values(all.size());

  const char* commands[][2] = {
      {"standalone", "Comet, Logic and Job in one process with embedded storage"},
      {"comet", "gateway: WebSocket connections, static files, gRPC Comet service"},
      {"logic", "business layer: accounts, rooms, acceptance into Kafka, REST, gRPC Logic service"},
      {"job", "consumer: sequences, persists and pushes Kafka records to the comets"},
  };
  for (auto& [name, help] : commands) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("-c,--config", config_file,
                    "TOML config file (see config/roomcast.example.toml)");
    for (std::size_t i = 0; i < all.size(); ++i)
      sub->add_option(flag_name(all[i].key), flag_values[i],
                      all[i].help + " [env " + env_name(all[i].key) + "]");
    sub->add_option("--default-rooms", rooms_flag, "default rooms as id:Name,id2:Name2");
    sub->add_option("--allowed-origins", origins_flag,
                    "extra allowed origins (WebSocket, REST), comma separated [env "
                    "ROOMCAST_ALLOWED_ORIGINS]");
    sub->add_option("--trusted-proxies", proxies_flag,
                    "proxies (addresses, CIDR) whose X-Forwarded-For is believed, comma "
                    "separated [env ROOMCAST_TRUSTED_PROXIES]");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  auto* chosen = app.get_subcommands().front();
  try {
    if (!config_file.empty()) load_file(config_file, config, all);
    for (auto& s : all)
      if (const char* v = std::getenv(env_name(s.key).c_str())) s.set(v);
    if (const char* v = std::getenv("ROOMCAST_DEFAULT_ROOMS"))
      config.default_rooms = parse_rooms(v);
    if (const char* v = std::getenv("ROOMCAST_ALLOWED_ORIGINS"))
      config.allowed_origins = split_commas(v);
    if (const char* v = std::getenv("ROOMCAST_TRUSTED_PROXIES"))
      config.trusted_proxies = split_commas(v);
    for (std::size_t i = 0; i < all.size(); ++i)
      if (chosen->count(flag_name(all[i].key))) all[i].set(flag_values[i]);
    if (chosen->count("--default-rooms")) config.default_rooms = parse_rooms(rooms_flag);
    if (chosen->count("--allowed-origins")) config.allowed_origins = split_commas(origins_flag);
    if (chosen->count("--trusted-proxies")) config.trusted_proxies = split_commas(proxies_flag);
    config.validate();
  } catch (const std::exception& e) {
    std::cerr << "roomcast: bad configuration: " << e.what() << "\n";
    std::exit(2);
  }
  return chosen->get_name();
}

}  // namespace roomcast
