#include "store/redis_client.h"

#include <hiredis.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "common/metrics_events.h"

namespace roomcast {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

template <typename Range>
void fill_argv(const Range& args, std::vector<const char*>& ptrs, std::vector<std::size_t>& lens) {
  for (const auto& a : args) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
}

}  // namespace

const RedisReply& RedisReply::check() const {
  if (type == Type::kError) throw RedisError("redis: " + str);
  return *this;
}

RedisOptions RedisOptions::from_address(std::string_view address) {
  RedisOptions o;
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    o.host = std::string(address);
    return o;
  }
  o.host = std::string(address.substr(0, colon));
  auto port = address.substr(colon + 1);
  if (std::from_chars(port.data(), port.data() + port.size(), o.port).ec != std::errc())
    throw std::invalid_argument("bad redis address: " + std::string(address));
  return o;
}

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {
  if (options_.pool_max < 1) options_.pool_max = 1;
}

RedisClient::~RedisClient() {
  for (auto* c : idle_) redisFree(c);
}

redisContext* RedisClient::connect() {
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                            to_timeval(options_.connect_timeout));
  if (c == nullptr) throw RedisError("redis: out of memory");
  if (c->err) {
    std::string err = c->errstr;
    redisFree(c);
    throw RedisError("redis: cannot connect to " + options_.host + ":" +
                     std::to_string(options_.port) + ": " + err);
  }
  redisSetTimeout(c, to_timeval(options_.command_timeout));
  redisEnableKeepAlive(c);
  auto setup = [&](std::initializer_list<std::string_view> args) {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    fill_argv(args, ptrs, lens);
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()));
    std::string err = r == nullptr ? c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "";
    if (r) freeReplyObject(r);
    if (!err.empty()) {
      redisFree(c);
      throw RedisError("redis: connection setup failed: " + err);
    }
  };
  if (!options_.user.empty())
    setup({"AUTH", options_.user, options_.password});
  else if (!options_.password.empty())
    setup({"AUTH", options_.password});
  if (options_.db != 0) setup({"SELECT", std::to_string(options_.db)});
  return c;
}

redisContext* RedisClient::acquire() {
  metrics::PoolWaitTimer timer(PoolKind::kRedis);  // waiting, plus opening a new connection
  std::unique_lock lock(mutex_);
  // Wait for an idle connection or room to open one; the pool never grows past pool_max.
  if (!available_.wait_for(lock, options_.pool_wait,
                           [&] { return !idle_.empty() || open_ < options_.pool_max; }))
    throw RedisError("redis: no free connection within " +
                     std::to_string(options_.pool_wait.count()) + " ms");
  if (!idle_.empty()) {
    auto* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  try {
    return connect();  // outside the lock: connecting can take up to connect_timeout
  } catch (...) {
    lock.lock();
    --open_;
    available_.notify_one();
    throw;
  }
}

void RedisClient::release(redisContext* c, bool healthy) {
  {
    std::lock_guard lock(mutex_);
    if (healthy) {
      idle_.push_back(c);
    } else {
      --open_;
      redisFree(c);
    }
  }
  available_.notify_one();
}

std::vector<RedisReply> RedisClient::run(const std::vector<Argv>& commands, bool retry) {
  for (int attempt = 0;; ++attempt) {
    redisContext* c = acquire();
    std::vector<RedisReply> replies;
    replies.reserve(commands.size());
    bool ok = true;
    for (auto& cmd : commands)
      if (redisAppendCommandArgv(c, static_cast<int>(cmd.ptrs.size()),
                                 const_cast<const char**>(cmd.ptrs.data()),
                                 cmd.lens.data()) != REDIS_OK) {
        ok = false;
        break;
      }
    for (std::size_t i = 0; ok && i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
        ok = false;
        break;
      }
      replies.push_back(convert(static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
    }
    if (ok) {
      release(c, true);
      return replies;
    }
    // An I/O error or timeout leaves the connection in an unknown state: never reuse it.
    std::string err = c->errstr;
    release(c, false);
    if (!retry || attempt >= 1) throw RedisError("redis: " + err);
    spdlog::warn("redis: {}; retrying on a new connection", err);
  }
}

template <class List>
RedisReply RedisClient::one(const List& args, bool retry) {
  Argv a;
  fill_argv(args, a.ptrs, a.lens);
  auto reply = std::move(run({std::move(a)}, retry).front());
  reply.check();
  return reply;
}

RedisReply RedisClient::command(std::initializer_list<std::string_view> args) {
  return one(args, true);
}

RedisReply RedisClient::command(const Args& args) {
  return one(args, true);
}

RedisReply RedisClient::command_once(std::initializer_list<std::string_view> args) {
  return one(args, false);
}

RedisReply RedisClient::command_once(const Args& args) {
  return one(args, false);
}

std::vector<RedisReply> RedisClient::pipeline(const std::vector<Args>& commands, bool retry,
                                              RedisErrorReplies errors) {
  if (commands.empty()) return {};
  std::vector<Argv> argv(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i)
    fill_argv(commands[i], argv[i].ptrs, argv[i].lens);
  auto replies = run(argv, retry);
  if (errors == RedisErrorReplies::kThrow)
    for (auto& r : replies) r.check();
  return replies;
}

bool RedisClient::ping() {
  try {
    auto r = command({"PING"});
    return r.string() == "PONG";
  } catch (const RedisError&) {
    return false;
  }
}

}  // namespace roomcast
