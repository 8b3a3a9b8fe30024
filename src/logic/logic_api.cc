#include "logic/logic_api.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "logic/presence_api.h"

namespace roomcast {

std::vector<RoomPage> LogicApi::latest_pages(int64_t user_id,
                                             const std::vector<std::string>& room_ids, int limit) {
  std::vector<RoomPage> pages;
  pages.reserve(room_ids.size());
  for (auto& id : room_ids) pages.push_back(room_page(user_id, id, 0, kNoSeq, limit));
  return pages;
}

std::vector<RoomPage> LogicApi::latest_pages_with_reads(int64_t user_id,
                                                        const std::vector<std::string>& room_ids,
                                                        int limit, PresenceApi& reads) {
  auto pages = latest_pages(user_id, room_ids, limit);
  set_read_positions(pages, reads.read_positions(user_id, room_ids));
  return pages;
}

void set_read_positions(std::vector<RoomPage>& pages, const std::vector<uint64_t>& positions) {
  for (std::size_t i = 0; i < pages.size(); ++i)
    pages[i].last_read_seq = i < positions.size() ? positions[i] : 0;
}

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
