// The presence topic (distributed mode): Logic applies the comets' report batches to the
// cluster-wide state in Redis (PresenceEpochs) and produces each online/offline transition as
// {"userId","online","at","epoch"} keyed by the user id, so one user's records stay in order in
// one partition. A periodic task sweeps comets silent past the registry TTL plus the grace.
// Every Logic sweeps; the sweep script is atomic, so two Logics never report one user twice.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/periodic_task.h"
#include "logic/presence_epochs.h"

namespace roomcast {

class PresenceTopic {
 public:
  // Hands one record (key, value) to the producer; must not block on the broker.
  using Publish = std::function<void(const std::string& key, const std::string& value)>;

  PresenceTopic(PresenceEpochs& epochs, Publish publish, std::chrono::milliseconds sweep_period,
                std::chrono::milliseconds silence);
  ~PresenceTopic();

  // gRPC threads: one comet's batch. Returns false when the comet must send everything.
  bool report(const std::string& comet, bool full, const PresenceEpochs::Holdings& users);
  // Starts and stops the sweep; any thread (once each).
  void start();
  void stop();

 private:
  void publish(const std::vector<PresenceTransition>& transitions, const char* source);
  void sweep();

  PresenceEpochs& epochs_;
  Publish publish_;
  std::chrono::milliseconds silence_;
  PeriodicTask sweeper_;
};

}  // namespace roomcast
