// A CometPush in front of the real one that moves each sender's read position to the messages
// it posted, once they are persisted and before they are pushed (docs/protocol.md: one's own
// messages are never unread). Chat batches are held until the same thread's next other push or
// flush(), so a whole Job batch moves its senders' positions in one store call (not one per
// room or sender); then they are forwarded unchanged and in order, like everything else.
#pragma once

#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "comet/comet_push.h"
#include "logic/presence_service.h"

namespace roomcast {

class ReadOnPostGateway final : public CometPush {
 public:
  ReadOnPostGateway(CometPush& inner, PresenceService& presence)
      : inner_(inner), presence_(presence) {}

  // Called on Job's threads, like every method here. Each thread's batches are held apart
  // (standalone's partitions run Job on several threads; a room stays on one of them).
  void push_room_messages(std::shared_ptr<const RoomMessages> batch) override {
    std::lock_guard lock(mutex_);
    held_[std::this_thread::get_id()].push_back(std::move(batch));
  }
  void push_room_event(const std::string& room_id,
                       std::shared_ptr<const std::string> event) override {
    release();
    inner_.push_room_event(room_id, std::move(event));
  }
  void push_room_events(const std::string& room_id,
                        const std::vector<std::shared_ptr<const std::string>>& events) override {
    release();
    inner_.push_room_events(room_id, events);
  }
  void push_users_event(const std::vector<int64_t>& user_ids,
                        std::shared_ptr<const std::string> event) override {
    release();
    inner_.push_users_event(user_ids, std::move(event));
  }
  void broadcast_event(std::shared_ptr<const std::string> event) override {
    release();
    inner_.broadcast_event(std::move(event));
  }
  void sync_membership(const MembershipChange& change) override {
    release();
    inner_.sync_membership(change);
  }
  void relay_notice(std::shared_ptr<const RelayedNotice> notice) override {
    release();
    inner_.relay_notice(std::move(notice));
  }
  void flush() override {
    release();
    inner_.flush();
  }

 private:
  // Moves the senders of the batches this thread holds forward in one call, then pushes the
  // batches in order.
  void release() {
    std::vector<std::shared_ptr<const RoomMessages>> batches;
    {
      std::lock_guard lock(mutex_);
      auto it = held_.find(std::this_thread::get_id());
      if (it == held_.end()) return;
      batches = std::move(it->second);
      held_.erase(it);
    }
    if (batches.empty()) return;
    std::vector<StoredMessage> messages;
    for (auto& b : batches) messages.insert(messages.end(), b->messages.begin(), b->messages.end());
    presence_.messages_persisted(messages);
    for (auto& b : batches) inner_.push_room_messages(std::move(b));
  }

  CometPush& inner_;
  PresenceService& presence_;
  std::mutex mutex_;  // guards held_
  std::unordered_map<std::thread::id, std::vector<std::shared_ptr<const RoomMessages>>> held_;
};

}  // namespace roomcast
