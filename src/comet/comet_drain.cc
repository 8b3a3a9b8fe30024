// Graceful drain of a comet (SIGTERM): every connection is closed with 1012 "reconnect:<ms>",
// each loop closing its share at an even pace over the drain window, so the clients reconnect
// to the other comets spread over the window instead of all at once.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <random>
#include <thread>

#include "comet/chat_session.h"
#include "comet/comet.h"
#include "comet/drain_schedule.h"
#include "domain/close_codes.h"

namespace roomcast {
namespace {

using Clock = std::chrono::steady_clock;

// Paces the closes of one shard; lives on the shard's loop.
class DrainPacer : public std::enable_shared_from_this<DrainPacer> {
 public:
  DrainPacer(CometShard& shard, std::chrono::milliseconds window)
      : shard_(shard),
        timer_(shard.ctx),
        schedule_(shard.all.size(), window, Clock::now()),
        rng_(std::random_device{}()) {}

  // On the shard's loop.
  void step() {
    auto now = Clock::now();
    bool last = schedule_.over(now);
    auto due = schedule_.due(now);
    // A copy: closing may end sessions, which leave shard.all.
    auto sessions = shard_.all;
    for (auto* s : sessions) {
      if (closed_ >= due && !last) break;
      if (s->closing()) continue;
      std::uniform_int_distribution<int64_t> delay(0, schedule_.max_delay_ms());
      s->close(close_code::kServiceRestart, DrainSchedule::reason(delay(rng_)).c_str());
      ++closed_;
    }
    if (last) return;  // late arrivals were closed above; Comet::shutdown() takes the rest
    timer_.expires_after(schedule_.tick());
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->step();
    });
  }

 private:
  CometShard& shard_;
  asio::steady_timer timer_;
  DrainSchedule schedule_;
  std::mt19937 rng_;
  std::size_t closed_ = 0;
};
}  // namespace

void Comet::drain_connections(std::chrono::milliseconds window) {
  assert_not_in_loops(loops_, "Comet::drain_connections");
  for (auto& shard : shards_)
    asio::post(shard->ctx,
               [&shard = *shard, window] { std::make_shared<DrainPacer>(shard, window)->step(); });
  // The clients answer the close and leave; a client that never answers is dropped by the
  // closing-handshake timeout of its session.
  auto deadline = Clock::now() + window + std::chrono::seconds(5);
  while (connection_count() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace roomcast
