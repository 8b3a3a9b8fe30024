// The consumer layer: the single writer of each room. For every batch from one queue partition
// it drops records it has already accepted (idempotency key), assigns per-room sequence numbers,
// persists the batch in one transaction, and only then pushes it to the comets — so a message
// that reaches any client is always in the history too.
#pragma once

#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "comet/comet_push.h"
#include "queue/queue.h"
#include "store/store.h"

namespace roomcast {

class Job {
 public:
  Job(Store& store, CometPush& comets) : store_(store), comets_(comets) {}

  // The QueueConsumer handler. Throws when persistence fails; the batch is then redelivered and
  // the room's sequence state reloaded from the store.
  void handle_batch(std::span<const QueueRecord> batch);

  // Forgets cached sequence state (e.g. when partitions move to another Job).
  void reset();

 private:
  // One room's share of a batch, each message with the clientMessages event it came from and
  // that event's trace id.
  struct RoomWork {
    std::vector<StoredMessage> fresh;  // new: sequence numbers are assigned in persist()
    std::vector<uint64_t> fresh_events;
    std::vector<TraceId> fresh_traces;
    std::vector<StoredMessage> repeated;  // accepted before: pushed again, not stored again
    std::vector<uint64_t> repeated_events;
    std::vector<TraceId> repeated_traces;
  };
  struct ChatWork {
    std::vector<std::string> room_order;  // first-seen order
    std::unordered_map<std::string, RoomWork> rooms;
    RoomWork& room(const std::string& id);
  };

  uint64_t next_seq(const std::string& room_id);
  ChatWork gather_chat(std::span<const QueueRecord> batch);
  void persist(ChatWork& work);
  // At debug: one line per message with its id and trace.
  void log_chat(ChatWork& work) const;
  void push_chat(ChatWork& work);
  void push_others(std::span<const QueueRecord> batch);
  // A notice relayed from one comet to the others (typing, read state, presence changes).
  void relay_notice(const QueueRecord& record);

  Store& store_;
  CometPush& comets_;
  std::mutex mutex_;  // guards last_seq_: partitions are handled on several threads
  std::unordered_map<std::string, uint64_t> last_seq_;
};

}  // namespace roomcast
