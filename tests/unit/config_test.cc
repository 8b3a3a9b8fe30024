// Configuration precedence: defaults < file < environment < flags.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/config.h"
#include "common/ids.h"

using namespace roomcast;

namespace {
std::string parse(std::vector<std::string> args, Config& c) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_command_line(static_cast<int>(argv.size()), argv.data(), c);
}
}  // namespace

TEST(Config, FileThenEnvironmentThenFlags) {
  auto path = std::filesystem::temp_directory_path() / ("roomcast-" + random_hex(4) + ".toml");
  std::ofstream(path) << R"(
listen = "127.0.0.1:9000"
data_dir = "/tmp/from-file"
admin_token = "file-token"
default_rooms = [ { id = "lobby", name = "Lobby" }, { id = "dev", name = "Developers" } ]
[limits]
max_frame_bytes = 12345
rate_per_sec = 7.5
)";
  setenv("ROOMCAST_DATA_DIR", "/tmp/from-env", 1);
  setenv("ROOMCAST_ADMIN_TOKEN", "env-token", 1);
  Config c;
  auto cmd = parse(
      {"roomcast", "standalone", "--config", path.string(), "--admin-token", "flag-token"}, c);
  unsetenv("ROOMCAST_DATA_DIR");
  unsetenv("ROOMCAST_ADMIN_TOKEN");
  std::filesystem::remove(path);
  EXPECT_EQ(cmd, "standalone");
  EXPECT_EQ(c.listen, "127.0.0.1:9000");   // file over default
  EXPECT_EQ(c.data_dir, "/tmp/from-env");  // env over file
  EXPECT_EQ(c.admin_token, "flag-token");  // flag over env
  EXPECT_EQ(c.limits.max_frame_bytes, 12345u);
  EXPECT_DOUBLE_EQ(c.limits.rate_per_sec, 7.5);
  ASSERT_EQ(c.default_rooms.size(), 2u);
  EXPECT_EQ(c.default_rooms[1].name, "Developers");
}

TEST(Config, DefaultsMatchTheProtocolLimits) {
  Config c;
  parse({"roomcast", "standalone"}, c);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.limits.max_frame_bytes, 64u * 1024);
  EXPECT_EQ(c.limits.max_content_bytes, 8u * 1024);
  EXPECT_EQ(c.limits.rate_per_sec, 50);
  EXPECT_EQ(c.limits.rate_burst, 100);
  EXPECT_EQ(c.limits.history_page, 50);
  EXPECT_EQ(c.limits.history_page_max, 100);
  EXPECT_EQ(c.limits.resume_replay_max, 500);
  EXPECT_EQ(c.limits.outbound_max_bytes, 1024u * 1024);
  EXPECT_EQ(c.limits.outbound_max_events, 1000u);
  EXPECT_EQ(c.limits.ping_interval_ms, 20000);
  EXPECT_EQ(c.limits.idle_timeout_ms, 60000);
  EXPECT_EQ(c.session_ttl_hours, 24 * 7);
  EXPECT_TRUE(c.admin_token.empty());
}

namespace {
std::filesystem::path write_toml(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("roomcast-" + random_hex(4) + ".toml");
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST(ConfigDeathTest, UnknownKeysInTheFileAreRefused) {
  auto path = write_toml("[limits]\nmax_frame_byte = 1234\n");  // misspelt
  Config c;
  EXPECT_EXIT(parse({"roomcast", "standalone", "--config", path.string()}, c),
              testing::ExitedWithCode(2), "unknown config key limits.max_frame_byte");
  std::filesystem::remove(path);
}

TEST(ConfigDeathTest, NumbersMustBeWholeNumbers) {
  Config c;
  EXPECT_EXIT(parse({"roomcast", "standalone", "--max-frame-bytes", "64k"}, c),
              testing::ExitedWithCode(2), "not a number: 64k");
}

TEST(ConfigDeathTest, OutOfRangeValuesAreRefusedByName) {
  Config c;
  EXPECT_EXIT(parse({"roomcast", "standalone", "--rate-per-sec", "0"}, c),
              testing::ExitedWithCode(2), "limits.rate_per_sec");
  EXPECT_EXIT(parse({"roomcast", "standalone", "--password-cost", "cheap"}, c),
              testing::ExitedWithCode(2), "password_cost = cheap");
}

TEST(Config, ValidateAcceptsTheDefaults) {
  Config c;
  EXPECT_NO_THROW(c.validate());
  c.limits.idle_timeout_ms = c.limits.ping_interval_ms;  // would close every connection
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

// The Kafka tuning is in the settings table like every other setting (file, environment, flag).
TEST(Config, KafkaTuningComesFromTheSettings) {
  setenv("ROOMCAST_KAFKA_SESSION_TIMEOUT_MS", "6000", 1);
  setenv("ROOMCAST_KAFKA_HEARTBEAT_MS", "2000", 1);
  Config c;
  parse({"roomcast", "job", "--kafka-props", "fetch.wait.max.ms=5,socket.timeout.ms=1000"}, c);
  unsetenv("ROOMCAST_KAFKA_SESSION_TIMEOUT_MS");
  unsetenv("ROOMCAST_KAFKA_HEARTBEAT_MS");
  EXPECT_EQ(c.kafka_session_timeout_ms, 6000);
  EXPECT_EQ(c.kafka_heartbeat_ms, 2000);
  EXPECT_EQ(c.kafka_message_timeout_ms, 30000);
  using Props = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(kafka_properties(c.kafka_props),
            (Props{{"fetch.wait.max.ms", "5"}, {"socket.timeout.ms", "1000"}}));
  EXPECT_EQ(kafka_properties("a=b=c,,x="), (Props{{"a", "b=c"}, {"x", ""}}));
  EXPECT_TRUE(kafka_properties("").empty());
}

TEST(ConfigDeathTest, KafkaTuningOutOfRangeIsRefusedByName) {
  Config c;
  EXPECT_EXIT(parse({"roomcast", "job", "--kafka-heartbeat-ms", "10000"}, c),
              testing::ExitedWithCode(2), "kafka_heartbeat_ms = 10000");
  EXPECT_EXIT(parse({"roomcast", "job", "--kafka-message-timeout-ms", "0"}, c),
              testing::ExitedWithCode(2), "kafka_message_timeout_ms");
  EXPECT_EXIT(parse({"roomcast", "job", "--kafka-props", "linger.ms"}, c),
              testing::ExitedWithCode(2), "kafka_props = linger.ms");
}
