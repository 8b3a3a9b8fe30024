#include "job/job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "comet/room_batches.h"
#include "common/log_ids.h"

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

Job::RoomWork& Job::ChatWork::room(const std::string& id) {
  auto [it, added] = rooms.try_emplace(id);
  if (added) room_order.push_back(id);
  return it->second;
}

Job::ChatWork Job::gather_chat(std::span<const QueueRecord> batch) {
  // Keys accepted before (a client retry, or the queue redelivering after a crash), looked up
  // for the whole batch at once.
  std::unordered_set<std::string> keys_in_batch;
  std::vector<std::string> keys;
  for (auto& r : batch)
    if (r.type == PushKind::kChat && keys_in_batch.insert(r.message.dedup_key).second)
      keys.push_back(r.message.dedup_key);
  std::unordered_map<std::string, StoredMessage> existing;
  for (auto& m : store_.find_by_dedup_keys(keys)) existing.emplace(m.dedup_key, std::move(m));
  keys_in_batch.clear();

  ChatWork work;
  for (auto& r : batch) {
    if (r.type != PushKind::kChat) continue;
    if (!keys_in_batch.insert(r.message.dedup_key).second) continue;  // same key twice in one batch
    if (auto it = existing.find(r.message.dedup_key); it != existing.end()) {
      // Push the stored message again instead of creating a second one (connections drop ids
      // they saw), always into the room it belongs to.
      auto& room = work.room(it->second.room_id);
      room.repeated.push_back(std::move(it->second));
      room.repeated_events.push_back(r.event_id);
      room.repeated_traces.push_back(r.trace_id);
      continue;
    }
    auto& room = work.room(r.room_id);
    room.fresh.push_back(r.message);
    room.fresh.back().room_id = r.room_id;  // the partition key names the room
    room.fresh_events.push_back(r.event_id);
    room.fresh_traces.push_back(r.trace_id);
  }
  return work;
}

void Job::persist(ChatWork& work) {
  std::vector<StoredMessage> to_persist;
  try {
    for (auto& id : work.room_order)
      for (auto& m : work.rooms[id].fresh) {
        m.seq = next_seq(id);
        to_persist.push_back(m);
      }
    store_.append_messages(to_persist);
  } catch (...) {
    reset();  // sequence numbers handed out above were not persisted
    throw;
  }
}

void Job::log_chat(ChatWork& work) const {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  for (auto& id : work.room_order) {
    auto& room = work.rooms[id];
    for (std::size_t i = 0; i < room.fresh.size(); ++i) {
      auto& m = room.fresh[i];
      log_ids(spdlog::level::debug,
              LogIds().user(m.user_id).room(id).msg(m.seq).trace(room.fresh_traces[i]),
              "job: message stored");
    }
    for (std::size_t i = 0; i < room.repeated.size(); ++i) {
      auto& m = room.repeated[i];
      log_ids(spdlog::level::debug,
              LogIds().user(m.user_id).room(m.room_id).msg(m.seq).trace(room.repeated_traces[i]),
              "job: a repeat of a stored message (idempotency key), pushed again");
    }
  }
}

namespace {
// Sorts messages by seq, keeping each one's event and trace beside it.
void sort_by_seq(std::vector<StoredMessage>& messages, std::vector<uint64_t>& events,
                 std::vector<TraceId>& traces) {
  std::vector<std::size_t> order(messages.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return messages[a].seq < messages[b].seq; });
  std::vector<StoredMessage> sorted_messages;
  std::vector<uint64_t> sorted_events;
  std::vector<TraceId> sorted_traces;
  for (auto i : order) {
    sorted_messages.push_back(std::move(messages[i]));
    sorted_events.push_back(events[i]);
    sorted_traces.push_back(traces[i]);
  }
  messages = std::move(sorted_messages);
  events = std::move(sorted_events);
  traces = std::move(sorted_traces);
}
}  // namespace

void Job::push_chat(ChatWork& work) {
  for (auto& id : work.room_order) {
    auto& room = work.rooms[id];
    sort_by_seq(room.repeated, room.repeated_events, room.repeated_traces);
    for (auto& run : cut_room_messages(id, std::move(room.repeated), room.repeated_events,
                                       room.repeated_traces))
      comets_.push_room_messages(std::move(run));
    for (auto& run :
         cut_room_messages(id, std::move(room.fresh), room.fresh_events, room.fresh_traces))
      comets_.push_room_messages(std::move(run));
  }
}

void Job::push_others(std::span<const QueueRecord> batch) {
  // Room pushes are grouped per room (in order) so a burst goes out as one write per connection.
  std::vector<std::pair<std::string, std::vector<std::shared_ptr<const std::string>>>> room_pushes;
  for (auto& r : batch) {
    if (r.type == PushKind::kChat) continue;
    if (!r.origin_comet.empty()) {
      relay_notice(r);
      continue;
    }
    if (r.type == PushKind::kMembership) {
      if (!r.user_ids.empty())
        comets_.sync_membership({r.user_ids.front(), r.room_id, r.joined_room, r.origin_conn});
      continue;
    }
    log_ids(spdlog::level::debug, LogIds().room(r.room_id).trace(r.trace_id),
            "job: pushing a push-API event to {} users (none: a room or everyone)",
            r.user_ids.size());
    auto event = std::make_shared<const std::string>(r.body);
    if (r.type == PushKind::kUsers) comets_.push_users_event(r.user_ids, event);
    if (r.type == PushKind::kBroadcast) comets_.broadcast_event(event);
    if (r.type == PushKind::kRoom) {
      auto it = std::find_if(room_pushes.begin(), room_pushes.end(),
                             [&](auto& p) { return p.first == r.room_id; });
      if (it == room_pushes.end()) it = room_pushes.insert(room_pushes.end(), {r.room_id, {}});
      it->second.push_back(std::move(event));
    }
  }
  for (auto& [room, events] : room_pushes) comets_.push_room_events(room, events);
}

void Job::relay_notice(const QueueRecord& r) {
  if (r.type != PushKind::kRoom && r.type != PushKind::kUsers) return;
  auto notice = std::make_shared<RelayedNotice>();
  notice->origin_comet = r.origin_comet;
  notice->room_id = r.room_id;
  if (r.type == PushKind::kUsers) notice->user_ids = r.user_ids;
  notice->except_user = r.exclude_user;
  notice->event = r.body;
  notice->joined = r.joined;
  notice->left = r.left;
  comets_.relay_notice(std::move(notice));
}

void Job::handle_batch(std::span<const QueueRecord> batch) {
  auto started = std::chrono::steady_clock::now();
  try {
    auto work = gather_chat(batch);
    persist(work);
    log_chat(work);
    push_chat(work);
    push_others(batch);
    comets_.flush();  // the batch is done (and committed) only once its pushes are out
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
    spdlog::debug("job: a batch of {} records handled in {:.1f} ms", batch.size(), ms.count());
  } catch (const std::exception& e) {
    // One line for the whole batch (it is redelivered, maybe many times), naming its traces.
    std::vector<TraceId> traces;
    for (auto& r : batch) traces.push_back(r.trace_id);
    auto first = batch.empty() ? QueueRecord{} : batch.front();
    log_ids(spdlog::level::warn,
            LogIds().user(first.message.user_id).room(first.room_id).trace(first.trace_id),
            "job: a batch of {} records failed, to be delivered again: {}; {}", batch.size(),
            e.what(), trace_list(traces));
    throw;
  }
}

}  // namespace roomcast
