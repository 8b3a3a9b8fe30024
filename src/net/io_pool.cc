#include "net/io_pool.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace roomcast {

IoPool::IoPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) {
    // Concurrency hint 1: each context is only ever run by its own thread.
    loops_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*loops_.back()));
  }
}

IoPool::~IoPool() {
  stop();
  join();
}

std::size_t IoPool::index_of(const asio::io_context& ctx) const {
  for (std::size_t i = 0; i < loops_.size(); ++i)
    if (loops_[i].get() == &ctx) return i;
  throw std::logic_error("io_context not in pool");
}

bool IoPool::in_any_loop() const {
  for (auto& loop : loops_)
    if (loop->get_executor().running_in_this_thread()) return true;
  return false;
}

void assert_in_loop(asio::io_context& loop, const char* call) {
  if (loop.get_executor().running_in_this_thread()) return;
  std::fprintf(stderr, "roomcast: %s called off its loop thread\n", call);
  std::abort();
}

void assert_not_in_loops(const IoPool& pool, const char* call) {
  if (!pool.in_any_loop()) return;
  std::fprintf(stderr, "roomcast: %s called on a loop thread (it waits for the loops)\n", call);
  std::abort();
}

void IoPool::start() {
  for (auto& loop : loops_) threads_.emplace_back([ctx = loop.get()] { ctx->run(); });
}

void IoPool::stop() {
  guards_.clear();
  for (auto& loop : loops_) loop->stop();
}

void IoPool::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace roomcast
