// Groups the clientMessages events of every connection of a comet into ReceiveBatch calls. An
// event is sent as soon as a call slot is free: with every slot busy, events pile up and the
// next call to start takes them all (up to max_events), so a busy comet makes few large calls
// and an idle one sends each event at once (no fixed linger). One connection has at most one
// event here at a time (it awaits each post), which keeps its events in order.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "logic.pb.h"
#include "logic/logic_api.h"

namespace roomcast {

// One event waiting for, or riding in, a call.
struct BatchedEvent {
  logic::ReceiveRequest request;
  bool keyed = false;  // every message has a clientId: a repeat is dropped by Job (retry-safe)
  PostDone done;       // called once with the event's outcome
};

// Thread-safe: any thread may call add() and finished().
class LogicBatcher {
 public:
  // Starts one call with these events; the owner calls finished() once the call is over (after
  // or before answering its events). Runs on the thread that called add() or finished().
  using Send = std::function<void(std::vector<BatchedEvent>)>;
  LogicBatcher(std::size_t max_events, std::size_t max_in_flight, Send send);
  // Waits for the calls in flight to end; events not sent yet fail.
  ~LogicBatcher();

  // Any thread. Queues the event and starts a call if a slot is free.
  void add(BatchedEvent event);
  // Any thread: a call started by Send is over; starts the next one with what piled up.
  void finished();

  // For tests and metrics, any thread.
  std::size_t in_flight() const;
  std::size_t pending() const;

 private:
  // Takes the next call's events if a slot is free (mutex_ held); empty if none.
  std::vector<BatchedEvent> take_locked();

  const std::size_t max_events_;
  const std::size_t max_in_flight_;
  Send send_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::deque<BatchedEvent> pending_;
  std::size_t in_flight_ = 0;
  bool closing_ = false;
};

}  // namespace roomcast
