// The storage seam: users, sessions, rooms, memberships and message history.
// Standalone uses SQLite (sqlite_store), the distributed mode MySQL + Redis; Logic and Job only
// see these interfaces.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/message.h"
#include "domain/room.h"
#include "domain/user.h"

namespace roomcast {

enum class CreateUserResult { kOk, kUsernameExists, kEmailExists };

// Thrown for storage failures that a caller cannot handle (the client then gets INTERNAL).
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  virtual ~Store() = default;

  // Accounts. Uniqueness of username and email is case-insensitive.
  virtual CreateUserResult create_user(const std::string& username, const std::string& email,
                                       const std::string& password_hash, int64_t& id_out) = 0;
  // Whether the username or email is already taken (kOk: neither; the email is reported when
  // both are), checked before the expensive password hash. create_user still decides races.
  virtual CreateUserResult account_conflict(const std::string& username,
                                            const std::string& email) = 0;
  virtual std::optional<UserCredentials> find_user_by_email(const std::string& email) = 0;
  virtual std::optional<User> find_user(int64_t id) = 0;

  // Rooms. `ensure_room` creates or renames (default rooms from the config).
  virtual void ensure_room(const RoomInfo& room) = 0;
  virtual bool create_room(const RoomInfo& room, int64_t creator) = 0;  // false: id taken
  virtual std::optional<RoomInfo> find_room(const std::string& id) = 0;
  virtual std::vector<RoomInfo> find_rooms(const std::vector<std::string>& ids) = 0;

  // Explicit membership rows: joined (true) or left (false). Default rooms have no row until
  // the user leaves one; Logic combines both.
  struct Membership {
    std::string room_id;
    bool joined;
  };
  virtual std::vector<Membership> memberships(int64_t user_id) = 0;
  // The rows of each user, same order (Logic checks a batch of posts at once). A store with
  // round trips to save answers in one; the default asks user by user.
  virtual std::vector<std::vector<Membership>> memberships_of(const std::vector<int64_t>& users) {
    std::vector<std::vector<Membership>> out;
    out.reserve(users.size());
    for (auto id : users) out.push_back(memberships(id));
    return out;
  }
  virtual void set_membership(int64_t user_id, const std::string& room_id, bool joined) = 0;

  // Messages. Sequence numbers are assigned by the room's single writer (Job).
  virtual uint64_t last_seq(const std::string& room_id) = 0;
  // The already-accepted message with this idempotency key, if any.
  virtual std::optional<StoredMessage> find_by_dedup_key(const std::string& key) = 0;
  // The already-accepted messages among `keys` (any order). A store with round trips to save
  // answers in one; the default asks key by key.
  virtual std::vector<StoredMessage> find_by_dedup_keys(const std::vector<std::string>& keys) {
    std::vector<StoredMessage> out;
    for (auto& k : keys)
      if (auto m = find_by_dedup_key(k)) out.push_back(std::move(*m));
    return out;
  }
  // Inserts all rows in one transaction (all or nothing).
  virtual void append_messages(const std::vector<StoredMessage>& messages) = 0;
  // Messages with after_seq < seq < before_seq, newest first, at most `limit`.
  virtual std::vector<StoredMessage> messages_between(const std::string& room_id,
                                                      uint64_t after_seq, uint64_t before_seq,
                                                      int limit) = 0;
};

// Sessions: random ids mapped to users, with expiry; they survive restarts.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual void create_session(const std::string& sid, int64_t user_id, int64_t expires_at_ms) = 0;
  virtual std::optional<int64_t> session_user(const std::string& sid, int64_t now_ms) = 0;
  virtual void revoke_session(const std::string& sid) = 0;
};

}  // namespace roomcast
