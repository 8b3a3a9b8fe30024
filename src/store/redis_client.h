// A small thread-safe pool of blocking hiredis connections, shared by everything in a process
// that talks to Redis (sessions, history cache, registry, routing). Commands are sent with
// redisCommandArgv: arguments are binary safe and never interpreted as a format string.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace roomcast {

// Every failure of a Redis call: connection-level ones (cannot connect, timeout, connection lost
// twice, pool exhausted) and error replies (WRONGTYPE, a failing script, ...), which are thrown
// too unless the caller asks for them (RedisErrorReplies::kReturn).
struct RedisError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a call does with error replies: throw the first as RedisError (the default, so none is
// ignored by mistake), or return them as RedisReply::kError for a caller that handles each
// command's failure on its own (then it calls RedisReply::check() on the replies it needs).
enum class RedisErrorReplies { kThrow, kReturn };

// A reply copied out of hiredis, so it can outlive the connection that produced it.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  // The string value, or nullopt for nil (GET of a missing key).
  std::optional<std::string> string() const {
    if (type == Type::kString || type == Type::kStatus) return str;
    return std::nullopt;
  }
  // Throws RedisError when the reply is an error reply; returns *this otherwise. Only needed
  // on the replies of a call made with RedisErrorReplies::kReturn.
  const RedisReply& check() const;
};

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;      // AUTH user password (Redis 6 ACL) when not empty
  std::string password;  // AUTH when not empty
  int db = 0;            // SELECT when not 0
  int pool_max = 16;     // most open connections
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{2000};
  std::chrono::milliseconds pool_wait{2000};  // how long a caller waits for a free connection

  // "host:port" (the `redis` setting) or "host" (port 6379).
  static RedisOptions from_address(std::string_view address);
};

class RedisClient {
 public:
  using Args = std::vector<std::string>;

  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command, e.g. command({"SET", key, value, "PX", "1000"}). A connection that fails
  // is closed and the command is sent once more on a fresh connection: use it for idempotent
  // commands; for the others (INCR, RPUSH, ...) use command_once. An error reply throws.
  // Any thread (the pool is thread-safe).
  RedisReply command(std::initializer_list<std::string_view> args);
  RedisReply command(const Args& args);
  RedisReply command_once(std::initializer_list<std::string_view> args);
  RedisReply command_once(const Args& args);

  // Sends all commands in one round trip and returns their replies in order. Not atomic unless
  // wrapped in MULTI ... EXEC (whose replies are then "QUEUED" and the EXEC array). Retried once
  // on a fresh connection when `retry` (only for idempotent batches). All commands run; then the
  // first error reply throws, unless `errors` is kReturn. Any thread.
  std::vector<RedisReply> pipeline(const std::vector<Args>& commands, bool retry = true,
                                   RedisErrorReplies errors = RedisErrorReplies::kThrow);

  // PING; false when Redis cannot be reached.
  bool ping();

  const RedisOptions& options() const { return options_; }

 private:
  struct Argv {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
  };
  redisContext* acquire();
  void release(redisContext* c, bool healthy);
  redisContext* connect();
  std::vector<RedisReply> run(const std::vector<Argv>& commands, bool retry);
  template <class List>
  RedisReply one(const List& args, bool retry);  // one command; an error reply throws

  RedisOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<redisContext*> idle_;
  int open_ = 0;  // idle + leased
};

}  // namespace roomcast
