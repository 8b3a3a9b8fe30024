// The queue seam between Logic (producer) and Job (consumer). Standalone uses LocalQueue (an
// in-process partitioned queue), the distributed mode Kafka. Records of one room always go to
// one partition, which one consumer handles at a time: that is what makes Job the single
// writer of a room's sequence.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/trace_id.h"
#include "domain/message.h"
#include "domain/push_kind.h"
#include "domain/user.h"

namespace roomcast {

struct QueueRecord {
  // kChat, kUsers, kRoom, kBroadcast or kMembership. kMembership: user_ids[0] joined or left
  // room_id; that user's other connections follow (origin_conn, the one that asked, already did).
  PushKind type = PushKind::kChat;
  std::string room_id;            // chat and room pushes; the partition key
  std::vector<int64_t> user_ids;  // user pushes
  int32_t op = 0;                 // push-API pushes: the `op` of the event, for the logs
  bool joined_room = false;       // kMembership: the user joined room_id (else left it)
  std::string body;               // pushes: the complete client event, serialised once by Logic
  // kChat: the message to store (seq 0: Job numbers it; room_id: the record's). Its dedup_key
  // is the idempotency key: "<user>:r<len>:<room>:c:<clientId>" or "<user>:g:<random>".
  StoredMessage message;
  // The clientMessages event this message came from (random, never 0; 0 in records of older
  // producers): messages of two events of one sender never share a serverMessages.
  uint64_t event_id = 0;
  TraceId trace_id;          // chat and pushes: for the logs of every layer (zero: none)
  uint64_t origin_conn = 0;  // kMembership
  // Notices relayed between comets (typing, read state, presence changes): ephemeral, never
  // stored; `origin_comet` (non-empty) delivered them to its own connections already. kRoom:
  // `body` to the room's members except `exclude_user`'s connections, or (no body) the named
  // presence changes on the origin comet. kUsers: `body` to the users' connections in room_id.
  std::string origin_comet;
  int64_t exclude_user = 0;
  std::vector<User> joined;
  std::vector<User> left;
  int64_t queued_us = 0;  // in-process only: when LocalQueue took it (wall µs), for metrics
};

// The queue cannot take more records now (back-pressure); the sender may retry shortly.
struct QueueFullError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class QueueProducer {
 public:
  virtual ~QueueProducer() = default;
  // Appends the records; returns once the queue holds them (accepted) or throws on failure
  // (QueueFullError when the queue is full).
  // Records with the same partition key keep their order.
  virtual void produce(std::vector<QueueRecord> records) = 0;
  // Appends several groups of records (e.g. one per client event) and waits once; returns one
  // outcome per group, in order: null when the queue holds the whole group, else what produce()
  // would have thrown for it. Records with the same partition key keep their order across
  // groups too. This default hands every record to one produce() call (one outcome for all).
  virtual std::vector<std::exception_ptr> produce_groups(
      std::vector<std::vector<QueueRecord>> groups) {
    std::vector<QueueRecord> all;
    for (auto& g : groups) std::move(g.begin(), g.end(), std::back_inserter(all));
    std::exception_ptr outcome;
    try {
      produce(std::move(all));
    } catch (...) {
      outcome = std::current_exception();
    }
    return std::vector<std::exception_ptr>(groups.size(), outcome);
  }
};

class QueueConsumer {
 public:
  // Called with a batch of records of one or more partitions, each partition's in order. When
  // the handler returns the batch is done (persisted and pushed) and its positions are
  // committed; if it throws, the batch is delivered again.
  using Handler = std::function<void(std::span<const QueueRecord>)>;
  virtual ~QueueConsumer() = default;
  virtual void start(Handler handler) = 0;
  virtual void stop() = 0;  // finishes what is queued, then returns
};

}  // namespace roomcast
