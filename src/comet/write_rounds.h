// The sessions a loop's drain has fed and that have not written yet, written a round at a time
// (issue #15). Fanning out to a large room means one system call per session; done in one go
// it holds the loop for tens of milliseconds, while the publish requests and the next pushes
// wait behind it and then wait for a whole drain more. Written in rounds, the loop reads its
// sockets and takes new pushes between two rounds, and a session not written yet takes those
// new frames in the same gathered write: what is pending for a connection goes out in its next
// write, instead of batches queueing behind each other.
//
// Order: each session's output queue is FIFO and a session is written whole, so the rounds
// change when frames leave, never their order. A session fed again after it was written this
// pass is queued once more at the end. Used by one loop only (not thread-safe).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace roomcast {

// `Session` has `bool cork()` (true when it was not corked yet) and `void uncork()` (writes
// what it queued).
template <class Session>
class WriteRounds {
 public:
  // A session the drain queues frames for: its writes wait for its turn.
  void feed(Session* s) {
    if (s->cork()) sessions_.push_back(s);
  }
  // The pushes just fed (`count` of them, taken at `started_us`) are written once every
  // session fed so far has been: reported through `written(started_us, count)` then.
  void mark(int64_t started_us, std::size_t count) {
    if (count) marks_.push_back({sessions_.size(), started_us, count});
  }
  // Writes up to `max_sessions` sessions in feed order. Calls `written(started_us, count)` for
  // each mark passed. Returns true while sessions remain.
  template <class Written>
  bool write_round(std::size_t max_sessions, Written&& written) {
    std::size_t end = std::min(sessions_.size(), next_ + max_sessions);
    // uncork() may close a socket; its session is removed (forget()) later, by its own handler.
    for (; next_ < end; ++next_)
      if (auto* s = sessions_[next_]) s->uncork();
    while (!marks_.empty() && marks_.front().end <= next_) {
      written(marks_.front().started_us, marks_.front().count);
      marks_.pop_front();
    }
    if (next_ < sessions_.size()) {
      compact();
      return true;
    }
    sessions_.clear();
    next_ = 0;
    if (sessions_.capacity() > kKeptCapacity) std::vector<Session*>().swap(sessions_);
    return false;
  }
  // A session going away while it waits for its turn is never written.
  void forget(const Session* s) {
    for (std::size_t i = next_; i < sessions_.size(); ++i)
      if (sessions_[i] == s) sessions_[i] = nullptr;
  }
  bool pending() const { return next_ < sessions_.size(); }

 private:
  struct Mark {
    std::size_t end;  // written once next_ reaches it
    int64_t started_us;
    std::size_t count;
  };
  static constexpr std::size_t kKeptCapacity = 4096;

  // While pushes keep coming the pass never ends: drop the written prefix once it is the
  // larger part, so the list stays within about twice the sessions waiting.
  void compact() {
    if (next_ < 1024 || next_ * 2 < sessions_.size()) return;
    sessions_.erase(sessions_.begin(), sessions_.begin() + static_cast<std::ptrdiff_t>(next_));
    for (auto& m : marks_) m.end -= std::min(m.end, next_);
    next_ = 0;
  }

  std::vector<Session*> sessions_;
  std::size_t next_ = 0;  // the next session to write
  std::deque<Mark> marks_;
};

}  // namespace roomcast
