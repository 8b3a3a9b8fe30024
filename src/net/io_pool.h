// One io_context per thread ("one loop per thread"): a connection is pinned to one loop for its
// life, so its state needs no locks. Blocking work (storage, password hashing) runs on a
// separate thread pool, never on a loop.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "common/metrics_events.h"

namespace roomcast {

namespace asio = boost::asio;

class IoPool {
 public:
  explicit IoPool(int threads);
  ~IoPool();

  std::size_t size() const { return loops_.size(); }
  asio::io_context& at(std::size_t i) { return *loops_[i]; }
  asio::io_context& next() { return *loops_[next_++ % loops_.size()]; }
  std::size_t index_of(const asio::io_context& ctx) const;
  // Whether the calling thread runs one of the loops (a call that waits for the loops must not).
  bool in_any_loop() const;

  void start();  // runs every loop on its own thread
  void stop();
  void join();

 private:
  std::vector<std::unique_ptr<asio::io_context>> loops_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

// muduo's assertInLoopThread(): state a loop owns is touched only on that loop's thread. A
// violation would race silently, so it stops the process with the name of the call.
void assert_in_loop(asio::io_context& loop, const char* call);
// For calls that wait for the loops: made on a loop thread they would deadlock.
void assert_not_in_loops(const IoPool& pool, const char* call);

// Runs `f` on `pool` and resumes the calling coroutine on its own executor with the result (or
// rethrows what `f` threw). `f` must return a value. Pass lambdas that capture by reference
// only: GCC 12 may destroy temporaries of a co_await expression twice (PR 100611).
template <class F>
auto run_blocking(asio::thread_pool& pool, F f) {
  using T = decltype(f());
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, T)>(
      [&pool](auto handler, F fn) {
        auto queued = std::chrono::steady_clock::now();
        asio::post(pool, [fn = std::move(fn), handler = std::move(handler), queued]() mutable {
          metrics::pool_wait(PoolKind::kBlocking, std::chrono::steady_clock::now() - queued);
          std::exception_ptr error;
          T result{};
          try {
            result = fn();
          } catch (...) {
            error = std::current_exception();
          }
          auto ex = asio::get_associated_executor(handler);
          asio::post(ex,
                     [handler = std::move(handler), error, result = std::move(result)]() mutable {
                       std::move(handler)(error, std::move(result));
                     });
        });
      },
      asio::use_awaitable, std::move(f));
}

}  // namespace roomcast
