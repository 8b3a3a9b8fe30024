#include "ops/readiness.h"

#include <spdlog/spdlog.h>

namespace roomcast {

ReadinessMonitor::ReadinessMonitor(std::vector<ReadinessProbe> probes,
                                   std::chrono::milliseconds period,
                                   std::chrono::milliseconds stale_after)
    : probes_(std::move(probes)),
      stale_after_(stale_after),
      task_("readiness", period, [this] { round(); }) {}

ReadinessMonitor::~ReadinessMonitor() {
  stop();
}

void ReadinessMonitor::start() {
  round();
  task_.start();
}

void ReadinessMonitor::stop() {
  task_.stop();
}

void ReadinessMonitor::round() {
  std::string failed;
  for (auto& probe : probes_) {
    {
      std::lock_guard lock(mutex_);
      probing_ = probe.name;
    }
    bool ok = false;
    try {
      ok = probe.check();
    } catch (const std::exception& e) {
      spdlog::debug("readiness: {}: {}", probe.name, e.what());
    }
    if (!ok) {
      failed = probe.name;
      break;
    }
  }
  std::lock_guard lock(mutex_);
  if (failed != failed_)
    failed.empty() ? spdlog::info("readiness: ready again")
                   : spdlog::warn("readiness: not ready: {} unreachable", failed);
  failed_ = std::move(failed);
  probing_.clear();
  round_done_ = std::chrono::steady_clock::now();
}

ReadinessMonitor::State ReadinessMonitor::state() const {
  if (draining_) return {false, "draining"};
  std::lock_guard lock(mutex_);
  if (round_done_ == std::chrono::steady_clock::time_point{}) return {false, "starting"};
  if (std::chrono::steady_clock::now() - round_done_ > stale_after_)
    return {false, probing_.empty() ? std::string("checks stalled") : probing_ + " not answering"};
  if (!failed_.empty()) return {false, failed_ + " unreachable"};
  return {true, "ok"};
}

}  // namespace roomcast
