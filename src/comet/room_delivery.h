// What one connection has shown of one room, and the rule of its live stream (docs/protocol.md,
// serverMessages): a connection that has seen `n` next sees `n+1` — never a message twice,
// never a hole. A batch that starts past `last + 1` (a push lost between layers) opens a gap
// that the session fills from the store before anything later; until the page is out or the
// gap is filled, later batches are held in order. Pure state: the session performs the steps
// it is told (send, fill, close with 4010). Owned and called by one session, on its loop.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "comet/comet_push.h"
#include "comet/ws_codec.h"
#include "common/events.h"

namespace roomcast {

// "Up to the room's newest message": the open end of a tail fill.
inline constexpr uint64_t kOpenEnd = UINT64_MAX;

class RoomDelivery {
 public:
  using Batch = std::shared_ptr<const RoomMessages>;
  struct Held {
    Batch batch;
    Frame frame;
  };

  // What the session does with a live batch.
  struct Step {
    enum class Kind {
      kNothing,    // held, or seen already
      kSendFrame,  // send the batch's shared frame as is
      kSendTail,   // send `tail`, the part of the batch not seen yet
      kFill,       // read the messages in (fill_after, fill_before) and call fill_done()
      kGiveUp,     // too much is held: close with 4010 so the client resumes
    };
    Step() = default;
    explicit Step(Kind k) : kind(k) {}
    Kind kind = Kind::kNothing;
    std::span<const StoredMessage> tail;
    uint64_t fill_id = 0;
    uint64_t fill_after = 0;
    uint64_t fill_before = 0;
  };

  enum class FillResult {
    kDone,        // send `messages`, then perform replay_held()
    kStale,       // not the fill in flight (the room was left and joined again): ignore
    kIncomplete,  // the store lacks part of the gap: close with 4010
  };

  // A held batch offered again, with what to do with it (`held.batch` keeps `step.tail`
  // valid); or, last and with no batch, the tail check that waited for the held batches.
  struct Replay {
    Held held;
    Step step;
  };

  explicit RoomDelivery(uint32_t max_held = 10000) : max_held_(max_held) {}

  // A live batch: what to do with it. The delivery path: no allocation unless it is held.
  Step offer(const Batch& batch, const Frame& frame);

  // The first page (hello / joined) is out: the batches held meanwhile are offered again, in
  // order (a new gap holds the rest), then a tail check that waited runs. The session performs
  // the steps in order.
  std::vector<Replay> page_sent(const RoomPage& page);
  // A room this connection created: empty, so every message from the first on is live.
  void created() { ready_ = true; }

  // The comet may have missed pushes (it was out of the registry): before the next batch, or
  // now, read what lies after `last` up to the newest message. Returns a kFill step when the
  // session should start it now (else kNothing: it starts once the page or a fill is done).
  Step check_tail();

  // The messages read for fill `fill_id`, ascending. On kDone, `messages` holds what to send;
  // once they are sent, replay_held() says what follows them.
  FillResult fill_done(uint64_t fill_id, std::vector<StoredMessage>& messages);
  // Reading fill `fill_id` failed. kStale: the room was left meanwhile (maybe joined again),
  // ignore it; kIncomplete: the gap cannot be filled, so nothing later is ever sent here and
  // the session closes with 4010.
  FillResult fill_failed(uint64_t fill_id) const;
  // After a fill's messages are sent: the held batches offered again, as in page_sent().
  std::vector<Replay> replay_held();

  bool ready() const { return ready_; }
  // Whether fill `fill_id` is the one in flight (not stale).
  bool awaits(uint64_t fill_id) const { return fill_id != 0 && fill() == fill_id; }
  uint64_t last_seq() const { return last_; }
  // The oldest id of the first page sent: a resume covers what lies before it.
  uint64_t page_oldest() const { return page_oldest_; }

 private:
  Step start_fill(uint64_t before);
  Step hold(const Batch& batch, const Frame& frame);

  // What exists only while the page or a fill is pending: allocated only then, so a room in its
  // steady state costs a connection 32 bytes (issue #15: most connections are idle).
  struct Pending {
    std::vector<Held> held;    // batches held until the page or the fill is out
    uint64_t fill = 0;         // the fill in flight (0: none)
    uint64_t fill_before = 0;  // the first id after its gap (kOpenEnd: a tail fill)
  };
  Pending& pending();
  void release_pending();  // once nothing is held and no fill is in flight
  uint64_t fill() const { return pending_ ? pending_->fill : 0; }

  uint64_t last_ = 0;         // highest id sent (page, fill or live)
  uint64_t page_oldest_ = 1;  // oldest id of the first page
  std::unique_ptr<Pending> pending_;
  uint32_t max_held_;
  bool ready_ = false;     // the first page is out
  bool tail_due_ = false;  // check_tail() asked while the page or a fill was pending
};

}  // namespace roomcast
