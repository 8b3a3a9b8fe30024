// serverReadState to a user's other connections, coalesced per user and room: marks that come
// quickly one after another (a client scrolling) go out once, the latest winning.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "logic/presence_api.h"

namespace roomcast {

class ReadStateFanout {
 public:
  // Sends one serverReadState to `user_id`'s connections except `except_conn`.
  using Sink = std::function<void(int64_t user_id, const std::string& room_id,
                                  const std::string& event, uint64_t except_conn)>;
  ReadStateFanout(boost::asio::io_context& timer_loop, std::chrono::milliseconds window, Sink sink)
      : timer_(timer_loop), window_(window), sink_(std::move(sink)) {}

  // The user's read state in a room changed through connection `origin_conn`. Any thread.
  void publish(int64_t user_id, const std::string& room_id, ReadState state, uint64_t origin_conn);
  // Cancels the timer; pending events are dropped. Any thread.
  void stop();

 private:
  struct Pending {
    ReadState state;
    uint64_t origin_conn = 0;
  };
  void flush();

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds window_;
  Sink sink_;
  std::mutex mutex_;
  std::map<std::pair<int64_t, std::string>, Pending> pending_;
  bool armed_ = false;
  bool stopped_ = false;
};

}  // namespace roomcast
