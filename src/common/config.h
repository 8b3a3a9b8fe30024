// Configuration of every roomcast process: defaults < config file (TOML) < environment < flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace roomcast {

struct RoomConfig {
  std::string id;
  std::string name;
};

// The client-facing limits of docs/protocol.md ("Limits"), all configurable.
struct Limits {
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_content_bytes = 8 * 1024;
  // Messages in one clientMessages event (BAD_REQUEST past it).
  std::size_t messages_per_event_max = 100;
  double rate_per_sec = 50;                 // messages per connection, sustained
  double rate_burst = 100;                  // bucket size
  int history_page = 50;                    // default `count`
  int history_page_max = 100;               // `count` is clamped to this
  int resume_replay_max = 500;              // messages per room in one resume answer
  std::size_t page_max_bytes = 256 * 1024;  // messages per page (history, hello, joined, resume)
  std::size_t outbound_max_bytes = 1024 * 1024;
  std::size_t outbound_max_events = 1000;
  int ping_interval_ms = 20000;
  int idle_timeout_ms = 60000;
  int room_name_max = 64;
  // HTTP and REST abuse limits (docs/protocol.md "Limits"). `per_address` 0 lifts the per-address
  // ones (load tests from one address); the hashing queue always applies.
  std::size_t http_head_max_bytes = 16 * 1024;  // 431 past it
  int http_head_timeout_ms = 10000;             // first byte of a request head to its end
  int http_idle_timeout_ms = 60000;             // idle keep-alive connection
  std::size_t http_body_max_bytes = 64 * 1024;  // 413 past it
  int per_address = 1;
  int connections_per_address = 1000;
  double account_creations_per_min = 30;
  double account_creations_burst = 60;
  double logins_per_min = 60;
  double logins_burst = 120;
  int failed_logins_per_min = 10;         // per account or unknown email
  int hash_queue_max = 64;                // password hashes waiting (503 past it)
  std::size_t tracked_keys_max = 100000;  // entries per limiter table (oldest dropped)
  // Per-connection bucket of the other requests (history, create, join, leave, resume).
  double request_rate_per_sec = 20;
  double request_burst = 40;
  int rooms_per_user_max = 1000;       // created + joined + defaults (LIMIT_REACHED)
  int room_creations_per_minute = 10;  // per user, cluster-wide (RATE_LIMITED)
  int connections_per_user_max = 100;  // past it the user's oldest is closed with 4008
};

// Presence, typing and read state (docs/protocol.md revision 3).
struct PresenceSettings {
  int grace_ms = 5000;            // a user stays online this long after its last connection closed
  int window_ms = 1000;           // serverPresence at most once per room per window
  int large_window_ms = 5000;     // ... and in rooms past room_limit (counts only)
  int room_limit = 1000;          // members past which a room sends counts only
  int typing_interval_ms = 2000;  // serverTyping at most once per user and room per interval
  int member_count_ttl_ms = 30000;  // how long a room's member count is reused
  int read_state_window_ms = 200;   // serverReadState coalescing per user and room
  int members_page = 100;           // serverRoomMembers page size
};

struct Config {
  // Where the public listener binds (standalone and comet).
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  std::string web_root;     // static files; empty = auto-detect ./web next to the binary or cwd
  std::string admin_token;  // empty = server push API disabled
  std::vector<std::string> allowed_origins;  // extra origins allowed on /api/ws and REST POSTs
  // Peers whose X-Forwarded-For names the client (addresses or CIDR blocks, e.g. nginx's).
  std::vector<std::string> trusted_proxies;
  int cookie_secure = 0;     // 1: the session cookie gets `Secure` (served over HTTPS)
  int password_threads = 2;  // the password-hashing pool (argon2id: 64 MiB each)
  std::vector<RoomConfig> default_rooms = {{"beast", "Boost.Beast"},
                                           {"async", "Boost.Async"},
                                           {"db", "Database connectors"},
                                           {"wasm", "Web assembly"}};
  int io_threads = 0;        // 0 = one per core
  int blocking_threads = 8;  // store / password hashing work off the I/O loops
  // A comet's calls to Logic block one of these threads each (they mostly wait on the network):
  // enough for the requests in flight at the comet's peak rate (rate x round trip).
  int comet_rpc_threads = 64;
  // A comet batches its connections' clientMessages events into ReceiveBatch calls: at most
  // this many calls at once (events pile up meanwhile and go in the next one). One: a second
  // call mostly halved the events per call and cost 13-17 % more cluster CPU per delivery at
  // 1,000-2,000 msg/s for the same p99 (bench/RESULTS.md), and round robin sent it to a
  // stalled Logic half the time anyway ...
  int comet_post_calls = 1;
  int comet_post_batch_max = 128;  // ... of at most this many events each
  int queue_partitions = 8;
  int queue_max_records = 100000;  // per partition of the embedded queue (senders wait past it)
  int job_batch_window_ms = 2;     // how long Job lingers to merge a room's burst into one push
  int job_batch_max = 512;
  int session_ttl_hours = 24 * 7;
  std::string password_cost = "interactive";  // interactive | moderate | min (tests, load runs)
  std::string log_level = "info";
  Limits limits;
  PresenceSettings presence;

  // Distributed mode (roomcast comet|logic|job). No peer address of another roomcast node is
  // configured: nodes find each other through the registry in Redis.
  std::string node_id;                       // empty = role + random suffix
  std::string grpc_listen = "127.0.0.1:0";   // internal gRPC listener (port 0 = any free port)
  std::string advertise_host = "127.0.0.1";  // how peers reach this node's gRPC listener
  std::string logic_http_listen = "127.0.0.1:8090";  // Logic's REST listener (behind comets/LB)
  std::string redis = "127.0.0.1:6379";
  std::string redis_user;      // Redis ACL user (empty: the default user)
  std::string redis_password;  // from ROOMCAST_REDIS_PASSWORD or the config file
  // mTLS between the roles: ca.pem (the cluster's CA), node.pem and node.key (this node's
  // certificate, signed by it). Without it a role refuses to start unless insecure_internal.
  std::string internal_tls_dir;
  int insecure_internal = 0;  // 1: plaintext gRPC and a Redis without password (development)
  std::string mysql_host = "127.0.0.1";
  int mysql_port = 3306;
  std::string mysql_user = "roomcast";
  std::string
      mysql_password;  // from ROOMCAST_MYSQL_PASSWORD or the config file, never a flag default
  std::string mysql_database = "roomcast";
  int mysql_pool_max = 16;
  std::string kafka_brokers = "127.0.0.1:9092";
  std::string kafka_topic = "roomcast-messages";
  std::string kafka_presence_topic = "roomcast.presence";  // online/offline; empty: none
  std::string kafka_group = "roomcast-job";
  // librdkafka tuning: a dead Job's partitions move after the session timeout (heartbeats are
  // sent more often); a record not acknowledged within the message timeout fails its send.
  int kafka_session_timeout_ms = 10000;
  int kafka_heartbeat_ms = 3000;
  int kafka_message_timeout_ms = 30000;
  std::string kafka_props;  // "key=value,key=value": other librdkafka properties, passed as is
  int registry_ttl_ms = 3000;

  // Operations: metrics, health, drain and logs (README "Operating roomcast").
  std::string metrics_token;                   // bearer token of /metrics; empty: 404
  std::string http_listen = "127.0.0.1:8091";  // a Job's /metrics, /healthz, /readyz
  int readiness_timeout_ms = 5000;  // /readyz turns 503 when a dependency fails or hangs this long
  int drain_window_ms = 5000;       // a comet on SIGTERM spreads its clients' reconnects over this
  std::string log_format = "text";  // text | json (one object per line)

  // Throws std::invalid_argument naming the first setting out of its range.
  void validate() const;
};

// The kafka_props setting as key/value pairs; an item without "=" comes back with an empty key.
std::vector<std::pair<std::string, std::string>> kafka_properties(const std::string& props);

// Parses argv for `roomcast <command> ...`. Exits the process on --help or on a usage error.
// Returns the sub-command name ("standalone", ...).
std::string parse_command_line(int argc, char** argv, Config& config);

}  // namespace roomcast
