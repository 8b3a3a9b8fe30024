// LogicBatcher: events go out at once while a call slot is free, pile up while every slot is
// busy, and leave in arrival order in calls of at most max_events.
#include "rpc/logic_batcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace roomcast {
namespace {

struct Recorder {
  std::vector<std::vector<std::string>> calls;  // the room id of each event, per call
  LogicBatcher::Send send() {
    return [this](std::vector<BatchedEvent> events) {
      std::vector<std::string> rooms;
      for (auto& ev : events) rooms.push_back(ev.request.messages().room_id());
      calls.push_back(std::move(rooms));
    };
  }
};

BatchedEvent event(const std::string& room, std::vector<std::string>* answered = nullptr) {
  BatchedEvent ev;
  ev.request.mutable_messages()->set_room_id(room);
  ev.done = [answered, room](std::exception_ptr e) {
    if (answered) answered->push_back(room + (e ? ":failed" : ":ok"));
  };
  return ev;
}

TEST(LogicBatcher, SendsAtOnceWhileASlotIsFree) {
  Recorder rec;
  LogicBatcher batcher(8, 2, rec.send());
  batcher.add(event("a"));
  batcher.add(event("b"));
  ASSERT_EQ(rec.calls.size(), 2u);  // no linger: each went out alone
  EXPECT_EQ(rec.calls[0], std::vector<std::string>{"a"});
  EXPECT_EQ(rec.calls[1], std::vector<std::string>{"b"});
  EXPECT_EQ(batcher.in_flight(), 2u);
  batcher.finished();
  batcher.finished();
  EXPECT_EQ(batcher.in_flight(), 0u);
}

TEST(LogicBatcher, WhatPilesUpWhileBusyGoesInTheNextCallInOrder) {
  Recorder rec;
  LogicBatcher batcher(3, 1, rec.send());
  batcher.add(event("e0"));
  for (int i = 1; i <= 5; ++i) batcher.add(event("e" + std::to_string(i)));
  ASSERT_EQ(rec.calls.size(), 1u);
  EXPECT_EQ(batcher.pending(), 5u);
  batcher.finished();  // the next call takes at most 3, oldest first
  ASSERT_EQ(rec.calls.size(), 2u);
  EXPECT_EQ(rec.calls[1], (std::vector<std::string>{"e1", "e2", "e3"}));
  batcher.finished();
  ASSERT_EQ(rec.calls.size(), 3u);
  EXPECT_EQ(rec.calls[2], (std::vector<std::string>{"e4", "e5"}));
  batcher.finished();
  EXPECT_EQ(rec.calls.size(), 3u);  // nothing left: no empty call
  EXPECT_EQ(batcher.in_flight(), 0u);
}

TEST(LogicBatcher, StoppingWaitsForTheCallInFlightAndFailsWhatWasNotSent) {
  std::vector<std::string> answered;
  Recorder rec;
  std::thread call_ends;
  {
    LogicBatcher batcher(8, 1, rec.send());
    batcher.add(event("busy", &answered));
    batcher.add(event("stranded", &answered));
    call_ends = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      batcher.finished();  // the call's owner answers "busy" itself
    });
  }  // the destructor returns only after finished()
  call_ends.join();
  ASSERT_EQ(rec.calls.size(), 1u);
  EXPECT_EQ(answered, std::vector<std::string>{"stranded:failed"});
}

}  // namespace
}  // namespace roomcast
