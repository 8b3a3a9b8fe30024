// Config::validate(): ranges the settings table cannot express. A process refuses to start
// with a value that would make it misbehave later (a zero limit, an unknown cost name).
#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/config.h"

namespace roomcast {

namespace {
template <class T>
void require(bool ok, const char* key, T value, const char* rule) {
  if (!ok)
    throw std::invalid_argument(std::string(key) + " = " + std::to_string(value) + ": " + rule);
}

void validate_limits(const Limits& l) {
  require(l.max_frame_bytes >= 1024, "limits.max_frame_bytes", l.max_frame_bytes, "at least 1024");
  require(l.max_content_bytes >= 1, "limits.max_content_bytes", l.max_content_bytes, "at least 1");
  require(l.rate_per_sec > 0, "limits.rate_per_sec", l.rate_per_sec, "positive");
  require(l.rate_burst >= 1, "limits.rate_burst", l.rate_burst, "at least 1");
  require(l.messages_per_event_max >= 1, "limits.messages_per_event_max", l.messages_per_event_max,
          "at least 1");
  require(l.history_page >= 1 && l.history_page <= l.history_page_max, "limits.history_page",
          l.history_page, "1 .. history_page_max");
  require(l.resume_replay_max >= 1, "limits.resume_replay_max", l.resume_replay_max, "at least 1");
  require(l.page_max_bytes >= 1024, "limits.page_max_bytes", l.page_max_bytes, "at least 1024");
  require(l.outbound_max_bytes >= 4096, "limits.outbound_max_bytes", l.outbound_max_bytes,
          "at least 4096");
  require(l.outbound_max_events >= 2, "limits.outbound_max_events", l.outbound_max_events,
          "at least 2");
  require(l.ping_interval_ms >= 100, "limits.ping_interval_ms", l.ping_interval_ms, "at least 100");
  require(l.idle_timeout_ms > l.ping_interval_ms, "limits.idle_timeout_ms", l.idle_timeout_ms,
          "above ping_interval_ms");
  require(l.request_rate_per_sec > 0, "limits.request_rate_per_sec", l.request_rate_per_sec,
          "positive");
  require(l.request_burst >= 1, "limits.request_burst", l.request_burst, "at least 1");
  require(l.rooms_per_user_max >= 0, "limits.rooms_per_user_max", l.rooms_per_user_max,
          "0 (no cap) or more");
  require(l.room_creations_per_minute >= 0, "limits.room_creations_per_minute",
          l.room_creations_per_minute, "0 (no limit) or more");
  require(l.connections_per_user_max >= 0, "limits.connections_per_user_max",
          l.connections_per_user_max, "0 (none) or more");
}

void validate_kafka(const Config& c) {
  require(c.kafka_session_timeout_ms >= 1, "kafka_session_timeout_ms", c.kafka_session_timeout_ms,
          "positive");
  require(c.kafka_heartbeat_ms >= 1 && c.kafka_heartbeat_ms < c.kafka_session_timeout_ms,
          "kafka_heartbeat_ms", c.kafka_heartbeat_ms, "1 .. below kafka_session_timeout_ms");
  // 0 would mean "never give up": a send would wait forever for a broker that is gone.
  require(c.kafka_message_timeout_ms >= 1, "kafka_message_timeout_ms", c.kafka_message_timeout_ms,
          "positive");
  for (auto& [key, value] : kafka_properties(c.kafka_props))
    if (key.empty())
      throw std::invalid_argument("kafka_props = " + c.kafka_props + ": key=value,key=value");
}
}  // namespace

void Config::validate() const {
  validate_limits(limits);
  require(io_threads >= 0, "io_threads", io_threads, "0 (one per core) or more");
  require(blocking_threads >= 1, "blocking_threads", blocking_threads, "at least 1");
  require(comet_rpc_threads >= 1, "comet_rpc_threads", comet_rpc_threads, "at least 1");
  require(comet_post_calls >= 1, "comet_post_calls", comet_post_calls, "at least 1");
  require(comet_post_batch_max >= 1, "comet_post_batch_max", comet_post_batch_max, "at least 1");
  require(queue_partitions >= 1, "queue_partitions", queue_partitions, "at least 1");
  require(job_batch_window_ms >= 0, "job_batch_window_ms", job_batch_window_ms, "0 or more");
  require(job_batch_max >= 1, "job_batch_max", job_batch_max, "at least 1");
  require(session_ttl_hours >= 1, "session_ttl_hours", session_ttl_hours, "at least 1");
  require(mysql_port > 0 && mysql_port < 65536, "mysql_port", mysql_port, "1 .. 65535");
  require(mysql_pool_max >= 1, "mysql_pool_max", mysql_pool_max, "at least 1");
  validate_kafka(*this);
  require(registry_ttl_ms >= 300, "registry_ttl_ms", registry_ttl_ms, "at least 300");
  require(readiness_timeout_ms > 0, "readiness_timeout_ms", readiness_timeout_ms, "positive");
  require(drain_window_ms >= 0, "drain_window_ms", drain_window_ms, "0 or more");
  if (log_format != "text" && log_format != "json")
    throw std::invalid_argument("log_format = " + log_format + ": text or json");
  if (password_cost != "min" && password_cost != "interactive" && password_cost != "moderate")
    throw std::invalid_argument("password_cost = " + password_cost +
                                ": min, interactive or moderate");
}

std::vector<std::pair<std::string, std::string>> kafka_properties(const std::string& props) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start < props.size()) {
    auto end = std::min(props.find(',', start), props.size());
    auto item = props.substr(start, end - start);
    auto eq = item.find('=');
    if (!item.empty())
      out.emplace_back(eq == std::string::npos ? "" : item.substr(0, eq),
                       eq == std::string::npos ? item : item.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

}  // namespace roomcast
