// The business layer: accounts, sessions, rooms and memberships, message acceptance, history and
// the server push API. Stateless apart from its stores, so any number can run.
#pragma once

#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/config.h"
#include "logic/known_rooms.h"
#include "logic/logic_api.h"
#include "logic/window_counters.h"
#include "queue/queue.h"
#include "store/password.h"
#include "store/store.h"

namespace roomcast {

struct AccountResult {
  std::string error_id;  // empty on success, else USERNAME_EXISTS | EMAIL_EXISTS | LOGIN_FAILED
  std::string message;
  std::string sid;  // the new session on success
};

// One clientMessages event of a batch (Logic::post_batch).
struct PostEvent {
  User user;
  std::string room_id;
  std::vector<ClientMessage> messages;
  TraceId trace;
};

class Logic final : public LogicApi {
 public:
  Logic(const Config& config, Store& store, SessionStore& sessions, QueueProducer& producer);

  // Creates the configured default rooms (idempotent).
  void init_default_rooms();
  // Per-user counters shared with the other Logic processes (distributed mode); without this
  // call they are this process's own. Call before serving.
  void share_counters(WindowCounters& counters) { counters_ = &counters; }

  // REST: inputs are already validated by the caller. check_new_account is the cheap
  // uniqueness check made before the password hash; create_account and login hash (slow: call
  // them on the password pool).
  AccountResult check_new_account(const std::string& username, const std::string& email);
  AccountResult create_account(const std::string& username, const std::string& email,
                               const std::string& password);
  AccountResult login(const std::string& email, const std::string& password);
  void logout(const std::string& sid);

  // Server push API. `body_json` is valid JSON text.
  void push_users(const std::vector<int64_t>& user_ids, int64_t op, const std::string& body_json);
  void push_room(const std::string& room_id, int64_t op, const std::string& body_json);
  void push_broadcast(int64_t op, const std::string& body_json);
  // Notices a comet relays to the other comets (typing, read state, presence changes), already
  // checked by the caller: queued as they are, ephemeral (Job pushes them, never stores them).
  void relay_notices(std::vector<QueueRecord> records) { producer_.produce(std::move(records)); }

  // LogicApi
  std::optional<User> authenticate(const std::string& sid) override;
  std::vector<RoomInfo> user_rooms(int64_t user_id) override;
  RoomPage room_page(int64_t user_id, const std::string& room_id, uint64_t after_seq,
                     uint64_t before_seq, int limit) override;
  void post_messages(const User& user, const std::string& room_id,
                     const std::vector<ClientMessage>& messages, TraceId trace) override;
  RoomInfo create_room(const User& user, const std::string& name, uint64_t conn) override;
  RoomInfo join_room(int64_t user_id, const std::string& room_id, uint64_t conn) override;
  void leave_room(int64_t user_id, const std::string& room_id, uint64_t conn) override;

  // Many connections' events at once: each is checked exactly as post_messages checks it, the
  // records of all accepted ones are produced together and their acks waited for once. Returns
  // one outcome per event, in order: null once the queue holds it, else what post_messages would
  // have thrown (ClientError, or the queue's or store's failure). Any thread.
  std::vector<std::exception_ptr> post_batch(const std::vector<PostEvent>& events);

 private:
  bool is_default_room(const std::string& room_id) const;
  // Throws the ClientError that refuses these messages, if any. `rows`: the user's membership
  // rows if already read, else they are read here.
  void check_messages(const User& user, const std::string& room_id,
                      const std::vector<ClientMessage>& messages,
                      const std::vector<Store::Membership>* rows = nullptr);
  std::vector<QueueRecord> chat_records(const User& user, const std::string& room_id,
                                        const std::vector<ClientMessage>& messages, TraceId trace);
  // The ids of the user's rooms (defaults not left, then joined ones), from its rows.
  std::vector<std::string> member_room_ids(const std::vector<Store::Membership>& rows) const;
  // LIMIT_REACHED when the user may belong to no more rooms.
  void check_room_cap(std::size_t rooms) const;
  // RATE_LIMITED (with retryAfterMs) past the per-user room creation rate.
  void check_creation_rate(int64_t user_id);
  bool is_member(int64_t user_id, const std::string& room_id);
  bool is_member(const std::vector<Store::Membership>& rows, const std::string& room_id) const;
  bool room_exists(const std::string& room_id);
  std::string new_session(int64_t user_id);
  void produce_push(QueueRecord record);
  static QueueRecord membership_record(int64_t user_id, const std::string& room_id, bool joined,
                                       uint64_t conn);

  const Config& config_;
  std::once_flag dummy_once_;
  std::string dummy_hash_;  // verified against for unknown emails
  Store& store_;
  SessionStore& sessions_;
  QueueProducer& producer_;
  PasswordCost password_cost_;
  KnownRooms known_rooms_;
  LocalWindowCounters local_counters_;
  WindowCounters* counters_ = &local_counters_;
};

// The idempotency key of a chat message: unique per sender, room and clientId (a random key
// when the client gave none).
std::string idempotency_key(int64_t user_id, const std::string& room_id,
                            const std::string& client_id);

// The stored form of a session id: a hash, so a leaked database holds no usable cookies.
std::string session_key(const std::string& sid);

}  // namespace roomcast
