// Read positions and member lists over the stores (PresenceApi), plus the rule that posting a
// message moves the sender's read position to it. Thread-safe (the stores are).
#pragma once

#include <span>

#include "common/config.h"
#include "logic/presence_api.h"
#include "store/presence_store.h"
#include "store/store.h"

namespace roomcast {

class PresenceService final : public PresenceApi {
 public:
  PresenceService(const Config& config, Store& store, PresenceStore& presence)
      : config_(config), store_(store), presence_(presence) {}

  std::vector<uint64_t> read_positions(int64_t user_id,
                                       const std::vector<std::string>& room_ids) override;
  ReadState mark_read(int64_t user_id, const std::string& room_id, uint64_t seq) override;
  std::vector<User> room_members(const std::string& room_id, int64_t after_user,
                                 int limit) override;
  int64_t member_count(const std::string& room_id) override;

  // Persisted messages (of any rooms): each sender has read up to its newest one in each room,
  // so one's own messages are never unread. One store call for all of them.
  void messages_persisted(std::span<const StoredMessage> messages);

 private:
  bool is_default_room(const std::string& room_id) const;

  const Config& config_;
  Store& store_;
  PresenceStore& presence_;
};

}  // namespace roomcast
