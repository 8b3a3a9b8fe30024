#include "common/periodic_task.h"

#include <spdlog/spdlog.h>

namespace roomcast {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds period,
                           std::function<void()> step)
    : name_(std::move(name)), period_(period), step_(std::move(step)) {}

PeriodicTask::~PeriodicTask() {
  stop();
}

void PeriodicTask::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
      lock.unlock();
      try {
        step_();
      } catch (const std::exception& e) {
        spdlog::warn("{}: {}", name_, e.what());
      }
      lock.lock();
    }
  });
}

bool PeriodicTask::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return true;
}

}  // namespace roomcast
