// A CometGateway in front of the real one that moves each sender's read position to the messages
// it posted, once they are persisted and before they are pushed (docs/protocol.md: one's own
// messages are never unread). Everything is forwarded unchanged.
#pragma once

#include "comet/comet_gateway.h"
#include "logic/presence_service.h"

namespace roomcast {

class ReadOnPostGateway final : public CometGateway {
 public:
  ReadOnPostGateway(CometGateway& inner, PresenceService& presence)
      : inner_(inner), presence_(presence) {}

  // Called on Job's threads, like every method here.
  void push_room_messages(std::shared_ptr<const RoomMessages> batch) override {
    presence_.messages_persisted(batch->messages);
    inner_.push_room_messages(std::move(batch));
  }
  void push_room_event(const std::string& room_id,
                       std::shared_ptr<const std::string> event) override {
    inner_.push_room_event(room_id, std::move(event));
  }
  void push_room_events(const std::string& room_id,
                        const std::vector<std::shared_ptr<const std::string>>& events) override {
    inner_.push_room_events(room_id, events);
  }
  void push_users_event(const std::vector<int64_t>& user_ids,
                        std::shared_ptr<const std::string> event) override {
    inner_.push_users_event(user_ids, std::move(event));
  }
  void broadcast_event(std::shared_ptr<const std::string> event) override {
    inner_.broadcast_event(std::move(event));
  }
  void sync_membership(const MembershipChange& change) override { inner_.sync_membership(change); }
  void relay_notice(std::shared_ptr<const RelayedNotice> notice) override {
    inner_.relay_notice(std::move(notice));
  }
  void flush() override { inner_.flush(); }

 private:
  CometGateway& inner_;
  PresenceService& presence_;
};

}  // namespace roomcast
