// Graceful drain of a comet (SIGTERM): every connection is closed with 1012 "reconnect:<ms>",
// each loop closing its share at an even pace over the drain window, so the clients reconnect
// to the other comets spread over the window instead of all at once.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include "comet/comet.h"
#include "comet/ws_session.h"

namespace roomcast {
namespace {

using Clock = std::chrono::steady_clock;

// Paces the closes of one shard; lives on the shard's loop.
class DrainPacer : public std::enable_shared_from_this<DrainPacer> {
 public:
  DrainPacer(CometShard& shard, std::chrono::milliseconds window)
      : shard_(shard),
        timer_(shard.ctx),
        start_(Clock::now()),
        end_(start_ + window),
        total_(shard.all.size()),
        // The delay each client is told to wait: short, the closes themselves are spread.
        max_delay_ms_(std::clamp<int64_t>(window.count(), 0, 1000)),
        tick_(std::clamp<Clock::duration>(
            window / static_cast<int64_t>(std::max<std::size_t>(total_, 1)),
            std::chrono::milliseconds(5), std::chrono::milliseconds(100))),
        rng_(std::random_device{}()) {}

  // On the shard's loop.
  void step() {
    auto now = Clock::now();
    bool last = now >= end_;
    double progress = last ? 1.0
                           : std::chrono::duration<double>(now - start_) /
                                 std::chrono::duration<double>(end_ - start_);
    auto due = static_cast<std::size_t>(std::ceil(progress * static_cast<double>(total_)));
    // A copy: closing may end sessions, which leave shard.all.
    auto sessions = shard_.all;
    for (auto* s : sessions) {
      if (closed_ >= due && !last) break;
      if (s->closing()) continue;
      std::uniform_int_distribution<int64_t> delay(0, max_delay_ms_);
      s->close(1012, ("reconnect:" + std::to_string(delay(rng_))).c_str());
      ++closed_;
    }
    if (last) return;  // late arrivals were closed above; Comet::shutdown() takes the rest
    timer_.expires_after(tick_);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->step();
    });
  }

 private:
  CometShard& shard_;
  asio::steady_timer timer_;
  Clock::time_point start_;
  Clock::time_point end_;
  std::size_t total_;
  int64_t max_delay_ms_;
  Clock::duration tick_;
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
