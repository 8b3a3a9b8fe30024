#include "logic/presence_epochs.h"

#include <fmt/format.h>

#include "common/ids.h"

namespace roomcast {
namespace {

// Shared by both scripts: KEYS[1] the comet's set, KEYS[2] holders, KEYS[3] holding,
// KEYS[4] epochs. `out` collects user, online (1/0), epoch triples after the time.
constexpr const char* kCommon = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {1, now}
local function flip(uid, online)
  local e = tonumber(redis.call('HGET', KEYS[4], uid) or '0') + 1
  if e < now then e = now end
  redis.call('HSET', KEYS[4], uid, string.format('%d', e))
  out[#out + 1] = uid
  out[#out + 1] = online
  out[#out + 1] = e
end
local function add(uid)
  if redis.call('SADD', KEYS[1], uid) == 1 and redis.call('HINCRBY', KEYS[3], uid, 1) == 1 then
    flip(uid, 1)
  end
end
local function drop(uid)
  if redis.call('HINCRBY', KEYS[3], uid, -1) <= 0 then
    redis.call('HDEL', KEYS[3], uid)
    flip(uid, 0)
  end
end
local function remove(uid)
  if redis.call('SREM', KEYS[1], uid) == 1 then drop(uid) end
end
)lua";

// ARGV[1] comet, ARGV[2] "1" full, ARGV[3..] "+<user>" held / "-<user>" not held.
constexpr const char* kApply = R"lua(
local full = ARGV[2] == '1'
if not full and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return {0} end
if full then
  local keep = {}
  for i = 3, #ARGV do keep[string.sub(ARGV[i], 2)] = string.sub(ARGV[i], 1, 1) == '+' end
  for _, uid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if not keep[uid] then remove(uid) end
  end
  redis.call('SADD', KEYS[2], ARGV[1])
end
for i = 3, #ARGV do
  local uid = string.sub(ARGV[i], 2)
  if string.sub(ARGV[i], 1, 1) == '+' then add(uid) else remove(uid) end
end
return out
)lua";

// KEYS[5] presence_comets; ARGV[1] comet, ARGV[2] cutoff (ms): swept unless it reported
// after the cutoff.
constexpr const char* kSweep = R"lua(
local seen = redis.call('ZSCORE', KEYS[5], ARGV[1])
if seen and tonumber(seen) > tonumber(ARGV[2]) then return {0} end
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[1])) do drop(uid) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return out
)lua";

const std::string kApplyScript = std::string(kCommon) + kApply;
const std::string kSweepScript = std::string(kCommon) + kSweep;

int64_t integer_of(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  auto s = r.string();
  return s ? std::stoll(*s) : 0;
}

// The scripts' answer: {1, now, user, online, epoch, ...}, or {0} when refused.
std::optional<std::vector<PresenceTransition>> transitions_of(const RedisReply& reply) {
  auto& e = reply.elements;
  if (e.empty() || integer_of(e[0]) == 0) return std::nullopt;
  std::vector<PresenceTransition> out;
  int64_t at = e.size() > 1 ? integer_of(e[1]) : now_ms();
  for (std::size_t i = 2; i + 2 < e.size(); i += 3)
    out.push_back({integer_of(e[i]), integer_of(e[i + 1]) == 1, at, integer_of(e[i + 2])});
  return out;
}

}  // namespace

std::string presence_transition_json(const PresenceTransition& t) {
  return fmt::format(R"({{"userId":{},"online":{},"at":{},"epoch":{}}})", t.user_id,
                     t.online ? "true" : "false", t.at, t.epoch);
}

PresenceEpochs::PresenceEpochs(RedisClient& redis, std::string prefix)
    : redis_(redis), prefix_(std::move(prefix)) {}

std::optional<std::vector<PresenceTransition>> PresenceEpochs::apply(const std::string& comet,
                                                                     bool full,
                                                                     const Holdings& users) {
  RedisClient::Args args{"EVAL",
                         kApplyScript,
                         "4",
                         redis_keys::presence_held(comet, prefix_),
                         redis_keys::presence_holders(prefix_),
                         redis_keys::presence_holding(prefix_),
                         redis_keys::presence_epochs(prefix_),
                         comet,
                         full ? "1" : "0"};
  args.reserve(args.size() + users.size());
  for (auto& [user, held] : users) args.push_back((held ? "+" : "-") + std::to_string(user));
  // Set operations: a repeat of the same batch changes nothing, so a retry is safe.
  return transitions_of(redis_.command(args));
}

std::vector<PresenceTransition> PresenceEpochs::sweep(std::chrono::milliseconds silence) {
  auto cutoff = now_ms() - silence.count();
  auto holders = redis_.command({"SMEMBERS", redis_keys::presence_holders(prefix_)});
  std::vector<std::string> comets;
  for (auto& e : holders.elements)
    if (auto s = e.string()) comets.push_back(*s);
  if (comets.empty()) return {};
  std::vector<RedisClient::Args> scores;
  for (auto& c : comets) scores.push_back({"ZSCORE", redis_keys::presence_comets(prefix_), c});
  auto seen = redis_.pipeline(scores);
  std::vector<PresenceTransition> out;
  for (std::size_t i = 0; i < comets.size() && i < seen.size(); ++i) {
    auto score = seen[i].string();
    if (score && std::stod(*score) > static_cast<double>(cutoff)) continue;
    auto swept = sweep_comet(comets[i], cutoff);
    out.insert(out.end(), swept.begin(), swept.end());
  }
  return out;
}

std::vector<PresenceTransition> PresenceEpochs::sweep_comet(const std::string& comet,
                                                            int64_t cutoff_ms) {
  auto reply =
      redis_.command({"EVAL", kSweepScript, "5", redis_keys::presence_held(comet, prefix_),
                      redis_keys::presence_holders(prefix_), redis_keys::presence_holding(prefix_),
                      redis_keys::presence_epochs(prefix_), redis_keys::presence_comets(prefix_),
                      comet, std::to_string(cutoff_ms)});
  return transitions_of(reply).value_or(std::vector<PresenceTransition>{});
}

}  // namespace roomcast
