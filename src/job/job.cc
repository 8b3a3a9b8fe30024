#include "job/job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "common/events.h"

namespace roomcast {

void Job::reset() {
  std::lock_guard lock(mutex_);
  last_seq_.clear();
}

uint64_t Job::next_seq(const std::string& room_id) {
  std::unique_lock lock(mutex_);
  auto it = last_seq_.find(room_id);
  if (it == last_seq_.end()) {
    lock.unlock();
    uint64_t last = store_.last_seq(room_id);  // only this partition's thread writes this room
    lock.lock();
    it = last_seq_.emplace(room_id, last).first;
  }
  return ++it->second;
}

void Job::handle_batch(std::span<const QueueRecord> batch) {
  // Rooms in first-seen order, each with its new messages and the re-deliveries of old ones.
  struct RoomWork {
    std::vector<StoredMessage> fresh;
    std::vector<StoredMessage> repeated;
  };
  std::vector<std::string> room_order;
  std::unordered_map<std::string, RoomWork> rooms;
  std::unordered_set<std::string> keys_in_batch;
  std::vector<StoredMessage> to_persist;

  // Keys accepted before (a client retry, or the queue redelivering after a crash), looked up
  // for the whole batch at once.
  std::vector<std::string> keys;
  for (auto& r : batch)
    if (r.type == QueueRecord::Type::kChat && keys_in_batch.insert(r.dedup_key).second)
      keys.push_back(r.dedup_key);
  std::unordered_map<std::string, StoredMessage> existing;
  for (auto& m : store_.find_by_dedup_keys(keys)) existing.emplace(m.dedup_key, std::move(m));
  keys_in_batch.clear();

  for (auto& r : batch) {
    if (r.type != QueueRecord::Type::kChat) continue;
    if (!rooms.count(r.room_id)) room_order.push_back(r.room_id);
    auto& work = rooms[r.room_id];
    if (!keys_in_batch.insert(r.dedup_key).second) continue;  // same key twice in one batch
    if (auto it = existing.find(r.dedup_key); it != existing.end()) {
      // Push the stored message again instead of creating a second one; connections drop ids
      // they saw.
      work.repeated.push_back(std::move(it->second));
      continue;
    }
    StoredMessage m{r.room_id,      0,           r.sender_id, r.sender_name, r.content,
                    r.timestamp_ms, r.client_id, r.dedup_key};
    work.fresh.push_back(std::move(m));
  }
  try {
    for (auto& id : room_order)
      for (auto& m : rooms[id].fresh) {
        m.seq = next_seq(id);
        to_persist.push_back(m);
      }
    store_.append_messages(to_persist);
  } catch (...) {
    reset();  // sequence numbers handed out above were not persisted
    throw;
  }

  for (auto& id : room_order) {
    auto& work = rooms[id];
    for (auto* list : {&work.repeated, &work.fresh}) {
      if (list->empty()) continue;
      auto out = std::make_shared<RoomMessages>();
      out->room_id = id;
      out->messages = std::move(*list);
      std::sort(out->messages.begin(), out->messages.end(),
                [](auto& a, auto& b) { return a.seq < b.seq; });
      out->event = server_messages_event(id, out->messages);
      comets_.push_room_messages(std::move(out));
    }
  }

  // Room pushes are grouped per room (in order) so a burst goes out as one write per connection.
  std::vector<std::pair<std::string, std::vector<std::shared_ptr<const std::string>>>> room_pushes;
  for (auto& r : batch) {
    if (r.type == QueueRecord::Type::kChat) continue;
    if (r.type == QueueRecord::Type::kMembership) {
      if (!r.user_ids.empty())
        comets_.sync_membership({r.user_ids.front(), r.room_id, r.op != 0, r.origin_conn});
      continue;
    }
    auto event = std::make_shared<const std::string>(r.body);
    if (r.type == QueueRecord::Type::kUsers) comets_.push_users_event(r.user_ids, event);
    if (r.type == QueueRecord::Type::kBroadcast) comets_.broadcast_event(event);
    if (r.type == QueueRecord::Type::kRoom) {
      auto it = std::find_if(room_pushes.begin(), room_pushes.end(),
                             [&](auto& p) { return p.first == r.room_id; });
      if (it == room_pushes.end()) it = room_pushes.insert(room_pushes.end(), {r.room_id, {}});
      it->second.push_back(std::move(event));
    }
  }
  for (auto& [room, events] : room_pushes) comets_.push_room_events(room, events);
  comets_.flush();  // the batch is done (and committed) only once its pushes are out
}

}  // namespace roomcast
