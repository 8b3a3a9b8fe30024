// A background thread that runs one step every period until stopped. The discovery classes
// (heartbeat, registry refresh, route reconciliation) share it; a failing step is logged and
// the next one runs on schedule, so a Redis outage never ends the loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace roomcast {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, std::chrono::milliseconds period, std::function<void()> step);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void start();
  // Wakes the thread and waits for it to end. True for the call that stopped the task (also
  // when it never started), false for later calls: the caller's clean-up then runs once.
  bool stop();

 private:
  std::string name_;
  std::chrono::milliseconds period_;
  std::function<void()> step_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace roomcast
