#include "logic/logic_api.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace roomcast {

void LogicApi::post_messages_async(const User& user, const std::string& room_id,
                                   const std::vector<ClientMessage>& messages, TraceId trace,
                                   boost::asio::thread_pool& blocking, PostDone done) {
  boost::asio::post(blocking, [this, user, room_id, messages, trace, done = std::move(done)] {
    std::exception_ptr outcome;
    try {
      post_messages(user, room_id, messages, trace);
    } catch (...) {
      outcome = std::current_exception();
    }
    done(outcome);
  });
}

}  // namespace roomcast
