// Readiness of a node (/readyz): whether it can do its job right now. The probes (a Redis PING,
// a MySQL ping, a live Logic, Kafka metadata) run on a thread of their own, one round per
// period, and /readyz reads the last round's outcome without waiting: a probe that hangs (a
// frozen Redis) makes the outcome stale, which counts as not ready, so the answer is 503 within
// `stale_after` however the dependency fails, and 200 again after the next good round.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/periodic_task.h"

namespace roomcast {

struct ReadinessProbe {
  std::string name;             // what /readyz names when it fails ("redis", "mysql", ...)
  std::function<bool()> check;  // true when usable; may block or throw (= not usable)
};

class ReadinessMonitor {
 public:
  ReadinessMonitor(std::vector<ReadinessProbe> probes, std::chrono::milliseconds period,
                   std::chrono::milliseconds stale_after);
  ~ReadinessMonitor();

  // Runs the first round now (so a node that starts ready answers 200 at once), then every
  // period. Call once, from the role's main thread.
  void start();
  void stop();  // main thread

  // From now on not ready ("draining"): a comet going away. Any thread.
  void set_draining() { draining_ = true; }

  struct State {
    bool ready = false;
    std::string detail;  // "ok", or what is wrong
  };
  State state() const;  // any thread, never blocks on a probe

 private:
  void round();

  std::vector<ReadinessProbe> probes_;
  std::chrono::milliseconds stale_after_;
  std::atomic<bool> draining_{false};
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point round_done_{};  // end of the last complete round
  std::string failed_;                                  // failed probe of that round, "" if none
  std::string probing_;                                 // the probe running now
  PeriodicTask task_;
};

}  // namespace roomcast
