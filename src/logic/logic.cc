#include "logic/logic.h"

#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "common/events.h"
#include "common/ids.h"
#include "common/log_ids.h"
#include "common/metrics_events.h"
#include "common/validation.h"

namespace roomcast {

std::string session_key(const std::string& sid) {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(sid.data()),
                     sid.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return hex;
}

Logic::Logic(const Config& config, Store& store, SessionStore& sessions, QueueProducer& producer)
    : config_(config),
      store_(store),
      sessions_(sessions),
      producer_(producer),
      password_cost_(parse_password_cost(config.password_cost)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
}

void Logic::init_default_rooms() {
  for (auto& r : config_.default_rooms) store_.ensure_room({r.id, r.name.empty() ? r.id : r.name});
}

std::string Logic::new_session(int64_t user_id) {
  // 256 random bits after the user's id (16 hex digits): the entry point (deploy/nginx.conf)
  // hashes that prefix, so all of a user's sessions share a comet and count once in presence.
  // The id is public (every message carries it); the secret is the random part.
  auto sid = fmt::format("{:016x}", static_cast<uint64_t>(user_id)) + random_hex(32);
  int64_t ttl_ms = int64_t{config_.session_ttl_hours} * 3600 * 1000;
  sessions_.create_session(session_key(sid), user_id, now_ms() + ttl_ms);
  return sid;
}

namespace {
AccountResult conflict_result(CreateUserResult r) {
  switch (r) {
    case CreateUserResult::kUsernameExists:
      return {"USERNAME_EXISTS", "this username is already taken", ""};
    case CreateUserResult::kEmailExists:
      return {"EMAIL_EXISTS", "an account with this email already exists", ""};
    case CreateUserResult::kOk:
      break;
  }
  return {};
}
}  // namespace

AccountResult Logic::check_new_account(const std::string& username, const std::string& email) {
  return conflict_result(store_.account_conflict(username, email));
}

AccountResult Logic::create_account(const std::string& username, const std::string& email,
                                    const std::string& password) {
  auto hash = hash_password(password, password_cost_);
  int64_t id = 0;
  auto created = store_.create_user(username, email, hash, id);
  if (created != CreateUserResult::kOk) return conflict_result(created);
  log_ids(spdlog::level::info, LogIds().user(id), "logic: account created");
  return {"", "", new_session(id)};
}

AccountResult Logic::login(const std::string& email, const std::string& password) {
  auto creds = store_.find_user_by_email(email);
  // Hash even for an unknown email, at the configured cost, so timing does not tell which
  // emails exist.
  std::call_once(dummy_once_, [this] {
    dummy_hash_ = hash_password("roomcast-dummy-password", password_cost_);
  });
  bool ok = verify_password(creds ? creds->password_hash : dummy_hash_, password) && creds;
  if (!ok) return {"LOGIN_FAILED", "invalid email or password", ""};
  return {"", "", new_session(creds->user.id)};
}

void Logic::logout(const std::string& sid) {
  if (!sid.empty()) sessions_.revoke_session(session_key(sid));
}

std::optional<User> Logic::authenticate(const std::string& sid) {
  if (sid.empty() || sid.size() > 256) return std::nullopt;
  auto user_id = sessions_.session_user(session_key(sid), now_ms());
  if (!user_id) return std::nullopt;
  return store_.find_user(*user_id);
}

bool Logic::is_default_room(const std::string& room_id) const {
  return std::any_of(config_.default_rooms.begin(), config_.default_rooms.end(),
                     [&](const RoomConfig& r) { return r.id == room_id; });
}

std::vector<std::string> Logic::member_room_ids(const std::vector<Store::Membership>& rows) const {
  auto state = [&](const std::string& id) -> std::optional<bool> {
    for (auto& m : rows)
      if (m.room_id == id) return m.joined;
    return std::nullopt;
  };
  std::vector<std::string> ids;
  for (auto& r : config_.default_rooms)
    if (state(r.id).value_or(true)) ids.push_back(r.id);
  for (auto& m : rows)
    if (m.joined && !is_default_room(m.room_id)) ids.push_back(m.room_id);
  return ids;
}

std::vector<RoomInfo> Logic::user_rooms(int64_t user_id) {
  return store_.find_rooms(member_room_ids(store_.memberships(user_id)));
}

bool Logic::room_exists(const std::string& room_id) {
  if (known_rooms_.contains(room_id)) return true;
  if (!store_.find_room(room_id)) return false;
  known_rooms_.add(room_id);
  return true;
}

bool Logic::is_member(int64_t user_id, const std::string& room_id) {
  return is_member(store_.memberships(user_id), room_id);
}

bool Logic::is_member(const std::vector<Store::Membership>& rows,
                      const std::string& room_id) const {
  for (auto& m : rows)
    if (m.room_id == room_id) return m.joined;
  return is_default_room(room_id);
}

RoomPage Logic::room_page(int64_t user_id, const std::string& room_id, uint64_t after_seq,
                          uint64_t before_seq, int limit) {
  auto room = store_.find_room(room_id);
  if (!room) throw ClientError("UNKNOWN_ROOM", "no such room");
  if (!is_member(user_id, room_id)) throw ClientError("NOT_MEMBER", "you are not in this room");
  RoomPage page{*room, store_.messages_between(room_id, after_seq, before_seq, limit + 1), false};
  if (page.messages.size() > static_cast<std::size_t>(limit)) {
    page.messages.pop_back();
    page.has_more = true;
  }
  // Bounded by bytes too, so that no amount of history makes hello or a page too big to send.
  if (trim_to_bytes(page.messages, config_.limits.page_max_bytes)) page.has_more = true;
  return page;
}

void Logic::check_messages(const User& user, const std::string& room_id,
                           const std::vector<ClientMessage>& messages,
                           const std::vector<Store::Membership>* rows) {
  for (auto& m : messages) {
    if (m.content.empty()) throw ClientError("BAD_REQUEST", "content must not be empty");
    if (m.content.size() > config_.limits.max_content_bytes)
      throw ClientError(
          "TOO_LONG",
          "content is longer than " + std::to_string(config_.limits.max_content_bytes) + " bytes");
    if (!utf8_length(m.client_id)) throw ClientError("BAD_REQUEST", "clientId is not UTF-8");
  }
  if (!room_exists(room_id)) throw ClientError("UNKNOWN_ROOM", "no such room");
  if (!(rows ? is_member(*rows, room_id) : is_member(user.id, room_id)))
    throw ClientError("NOT_MEMBER", "you are not in this room");
}

std::vector<QueueRecord> Logic::chat_records(const User& user, const std::string& room_id,
                                             const std::vector<ClientMessage>& messages,
                                             TraceId trace) {
  std::vector<QueueRecord> records;
  records.reserve(messages.size());
  int64_t ts = now_ms();
  // Names this clientMessages event, so that no batch downstream merges it with another event
  // of the same sender (the sender waits for one serverMessages per event).
  uint64_t event_id = 0;
  while (event_id == 0) randombytes_buf(&event_id, sizeof event_id);
  for (auto& m : messages) {
    QueueRecord r;
    r.type = PushKind::kChat;
    r.room_id = room_id;
    r.message = {.room_id = room_id,
                 .user_id = user.id,
                 .username = user.username,
                 .content = m.content,
                 .timestamp_ms = ts,
                 .client_id = m.client_id,
                 .dedup_key = idempotency_key(user.id, room_id, m.client_id)};
    r.event_id = event_id;
    r.trace_id = trace;
    records.push_back(std::move(r));
  }
  return records;
}

void Logic::post_messages(const User& user, const std::string& room_id,
                          const std::vector<ClientMessage>& messages, TraceId trace) {
  auto ids = LogIds().user(user.id).room(room_id).trace(trace);
  try {
    check_messages(user, room_id, messages);
  } catch (const ClientError& e) {
    log_ids(spdlog::level::info, ids, "logic: messages refused: {} ({})", e.code, e.what());
    throw;
  }
  try {
    producer_.produce(chat_records(user, room_id, messages, trace));
  } catch (const QueueFullError&) {
    log_ids(spdlog::level::warn, ids, "logic: messages refused: the queue is full");
    throw ClientError("UNAVAILABLE", "the server is busy; send again shortly");
  } catch (const std::exception& e) {
    log_ids(spdlog::level::err, ids, "logic: producing messages failed: {}", e.what());
    throw;
  }
  log_ids(spdlog::level::debug, ids, "logic: {} messages accepted", messages.size());
  metrics::messages_accepted(messages.size());
}

std::vector<std::exception_ptr> Logic::post_batch(const std::vector<PostEvent>& events) {
  std::vector<std::exception_ptr> outcomes(events.size());
  // Every sender's membership rows in one store round trip.
  std::unordered_map<int64_t, std::size_t> user_index;
  std::vector<int64_t> users;
  for (auto& ev : events)
    if (user_index.emplace(ev.user.id, users.size()).second) users.push_back(ev.user.id);
  std::vector<std::vector<Store::Membership>> rows;
  try {
    rows = store_.memberships_of(users);
  } catch (const std::exception& e) {
    spdlog::error("logic: memberships of a batch of {} events unreadable: {}", events.size(),
                  e.what());
    return std::vector<std::exception_ptr>(events.size(), std::current_exception());
  }
  std::vector<std::vector<QueueRecord>> groups;
  std::vector<std::size_t> owners;  // the event of each group
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto& ev = events[i];
    try {
      check_messages(ev.user, ev.room_id, ev.messages, &rows[user_index.at(ev.user.id)]);
      groups.push_back(chat_records(ev.user, ev.room_id, ev.messages, ev.trace));
      owners.push_back(i);
    } catch (const std::exception& e) {
      // Refused alone; the others go on.
      log_ids(spdlog::level::info, LogIds().user(ev.user.id).room(ev.room_id).trace(ev.trace),
              "logic: messages refused: {}", e.what());
      outcomes[i] = std::current_exception();
    }
  }
  if (groups.empty()) return outcomes;
  // One hand-over and one wait for the acks of every accepted event.
  auto produced = producer_.produce_groups(std::move(groups));
  for (std::size_t k = 0; k < owners.size(); ++k) {
    auto& ev = events[owners[k]];
    auto ids = LogIds().user(ev.user.id).room(ev.room_id).trace(ev.trace);
    if (!produced[k]) {
      log_ids(spdlog::level::debug, ids, "logic: {} messages accepted", ev.messages.size());
      metrics::messages_accepted(ev.messages.size());
      continue;
    }
    try {
      std::rethrow_exception(produced[k]);
    } catch (const QueueFullError&) {
      log_ids(spdlog::level::warn, ids, "logic: messages refused: the queue is full");
      outcomes[owners[k]] = std::make_exception_ptr(
          ClientError("UNAVAILABLE", "the server is busy; send again shortly"));
    } catch (const std::exception& e) {
      log_ids(spdlog::level::err, ids, "logic: producing messages failed: {}", e.what());
      outcomes[owners[k]] = std::current_exception();
    }
  }
  return outcomes;
}

std::string idempotency_key(int64_t user_id, const std::string& room_id,
                            const std::string& client_id) {
  // Without a client id, a random key still lets Job drop a record the queue delivers twice.
  // Keys of the first format ("<user>:c:<clientId>", per sender only) stay in the stores and
  // never meet these, which start "<user>:r".
  if (client_id.empty()) return std::to_string(user_id) + ":g:" + random_hex(16);
  return std::to_string(user_id) + ":r" + std::to_string(room_id.size()) + ":" + room_id +
         ":c:" + client_id;
}

// The count comes from the membership rows, which every Logic shares through the store: the
// cap holds cluster-wide (two simultaneous requests of one user may both pass at the edge).
void Logic::check_room_cap(std::size_t rooms) const {
  if (config_.limits.rooms_per_user_max <= 0) return;  // 0: no cap
  auto max = static_cast<std::size_t>(config_.limits.rooms_per_user_max);
  if (rooms >= max)
    throw ClientError("LIMIT_REACHED", "you are in " + std::to_string(rooms) +
                                           " rooms, the most allowed; leave one");
}

void Logic::check_creation_rate(int64_t user_id) {
  if (config_.limits.room_creations_per_minute <= 0) return;  // 0: no limit (load tests)
  constexpr int64_t kMinuteMs = 60 * 1000;
  auto hit = counters_->add("create-room:" + std::to_string(user_id), kMinuteMs);
  if (hit.count > config_.limits.room_creations_per_minute)
    throw ClientError("RATE_LIMITED",
                      "at most " + std::to_string(config_.limits.room_creations_per_minute) +
                          " new rooms a minute",
                      std::max<int64_t>(1, hit.window_left_ms));
}

RoomInfo Logic::create_room(const User& user, const std::string& name, uint64_t conn) {
  auto len = utf8_length(name);
  if (!len || *len < 1 || *len > static_cast<std::size_t>(config_.limits.room_name_max))
    throw ClientError(
        "BAD_REQUEST",
        "roomName must be 1-" + std::to_string(config_.limits.room_name_max) + " characters");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7F) throw ClientError("BAD_REQUEST", "roomName has control characters");
  check_room_cap(member_room_ids(store_.memberships(user.id)).size());
  check_creation_rate(user.id);
  RoomInfo room;
  do {
    room = {"r" + random_hex(6), name};
  } while (!store_.create_room(room, user.id));
  store_.set_membership(user.id, room.id, true);
  known_rooms_.add(room.id);
  QueueRecord r;
  r.type = PushKind::kBroadcast;
  r.body = create_room_event(room);
  producer_.produce({std::move(r), membership_record(user.id, room.id, true, conn)});
  return room;
}

RoomInfo Logic::join_room(int64_t user_id, const std::string& room_id, uint64_t conn) {
  auto room = store_.find_room(room_id);
  if (!room) throw ClientError("UNKNOWN_ROOM", "no such room");
  auto ids = member_room_ids(store_.memberships(user_id));
  if (std::find(ids.begin(), ids.end(), room_id) == ids.end()) check_room_cap(ids.size());
  store_.set_membership(user_id, room_id, true);
  producer_.produce({membership_record(user_id, room_id, true, conn)});
  return *room;
}

void Logic::leave_room(int64_t user_id, const std::string& room_id, uint64_t conn) {
  if (!room_exists(room_id)) throw ClientError("UNKNOWN_ROOM", "no such room");
  if (!is_member(user_id, room_id)) throw ClientError("NOT_MEMBER", "you are not in this room");
  store_.set_membership(user_id, room_id, false);
  producer_.produce({membership_record(user_id, room_id, false, conn)});
}

QueueRecord Logic::membership_record(int64_t user_id, const std::string& room_id, bool joined,
                                     uint64_t conn) {
  QueueRecord r;
  r.type = PushKind::kMembership;
  r.room_id = room_id;
  r.user_ids = {user_id};
  r.joined_room = joined;
  r.origin_conn = conn;
  return r;
}

// A push-API event gets a trace id here, as a clientMessages event does in the comet.
void Logic::produce_push(QueueRecord record) {
  record.trace_id = TraceId::random();
  log_ids(spdlog::level::debug, LogIds().room(record.room_id).trace(record.trace_id),
          "logic: push-API event (op {}) for {} users (none: a room or everyone)", record.op,
          record.user_ids.size());
  producer_.produce({std::move(record)});
}

void Logic::push_users(const std::vector<int64_t>& user_ids, int64_t op,
                       const std::string& body_json) {
  QueueRecord r;
  r.type = PushKind::kUsers;
  r.user_ids = user_ids;
  r.op = static_cast<int32_t>(op);
  r.body = push_event(op, body_json);
  produce_push(std::move(r));
}

void Logic::push_room(const std::string& room_id, int64_t op, const std::string& body_json) {
  QueueRecord r;
  r.type = PushKind::kRoom;
  r.room_id = room_id;
  r.op = static_cast<int32_t>(op);
  r.body = push_event(op, body_json);
  produce_push(std::move(r));
}

void Logic::push_broadcast(int64_t op, const std::string& body_json) {
  QueueRecord r;
  r.type = PushKind::kBroadcast;
  r.op = static_cast<int32_t>(op);
  r.body = push_event(op, body_json);
  produce_push(std::move(r));
}

}  // namespace roomcast
