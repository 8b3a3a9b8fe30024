// The password-hashing pool: argon2id costs tens of milliseconds and 64 MiB per hash, so hashes
// run on threads of their own (never the pool that serves WebSocket requests) behind a bounded
// queue. A full queue refuses at once (the client gets 503 + Retry-After) instead of letting a
// login flood pile up work and memory.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <future>
#include <optional>

namespace roomcast {

class PasswordPool {
 public:
  PasswordPool(int threads, int queue_max)
      : pool_(static_cast<std::size_t>(threads < 1 ? 1 : threads)), max_(queue_max) {}
  ~PasswordPool() { pool_.join(); }

  // Queues `job` (move-only is fine); false when `queue_max` jobs already wait to start.
  // Any thread.
  template <class F>
  bool try_post(F job) {
    if (waiting_.fetch_add(1) >= max_) {
      waiting_.fetch_sub(1);
      return false;
    }
    boost::asio::post(pool_, [this, job = std::move(job)]() mutable {
      waiting_.fetch_sub(1);
      job();
    });
    return true;
  }

  // Runs `f` on the pool and waits for its result (rethrowing what it threw); nullopt when the
  // queue is full. For callers that may block (gRPC handler threads). Any thread but the pool's.
  template <class F>
  auto run_and_wait(F f) -> std::optional<decltype(f())> {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    if (!try_post(std::move(task))) return std::nullopt;
    return result.get();
  }

  int waiting() const { return waiting_.load(); }

 private:
  boost::asio::thread_pool pool_;
  int max_;
  std::atomic<int> waiting_{0};
};

}  // namespace roomcast
