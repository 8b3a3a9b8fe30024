#include "comet/read_state_fanout.h"

#include <boost/asio/post.hpp>

#include "common/presence_events.h"

namespace roomcast {

void ReadStateFanout::publish(int64_t user_id, const std::string& room_id, ReadState state,
                              uint64_t origin_conn) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  auto& p = pending_[{user_id, room_id}];
  if (state.last_read_seq >= p.state.last_read_seq) p = {state, origin_conn};
  if (std::exchange(armed_, true)) return;
  boost::asio::post(timer_.get_executor(), [this] {
    timer_.expires_after(window_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) flush();
    });
  });
}

void ReadStateFanout::flush() {
  std::map<std::pair<int64_t, std::string>, Pending> out;
  {
    std::lock_guard lock(mutex_);
    out.swap(pending_);
    armed_ = false;
  }
  for (auto& [key, p] : out)
    sink_(key.first, key.second,
          read_state_event(key.second, p.state.last_read_seq, p.state.unread), p.origin_conn);
}

void ReadStateFanout::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  boost::asio::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

}  // namespace roomcast
