#include "logic/presence_topic.h"

#include <spdlog/spdlog.h>

#include "common/metrics_events.h"

namespace roomcast {

PresenceTopic::PresenceTopic(PresenceEpochs& epochs, Publish publish,
                             std::chrono::milliseconds sweep_period,
                             std::chrono::milliseconds silence)
    : epochs_(epochs),
      publish_(std::move(publish)),
      silence_(silence),
      sweeper_("presence: sweeping silent comets failed", sweep_period, [this] { sweep(); }) {}

PresenceTopic::~PresenceTopic() {
  stop();
}

void PresenceTopic::start() {
  sweeper_.start();
}

void PresenceTopic::stop() {
  sweeper_.stop();
}

bool PresenceTopic::report(const std::string& comet, bool full,
                           const PresenceEpochs::Holdings& users) {
  auto transitions = epochs_.apply(comet, full, users);
  if (!transitions) {
    spdlog::info("presence: {} is not in step (swept or lost), asking for all its users", comet);
    return false;
  }
  publish(*transitions, "report");
  return true;
}

void PresenceTopic::sweep() {
  auto transitions = epochs_.sweep(silence_);
  if (transitions.empty()) return;
  spdlog::info("presence: swept silent comets, {} users went offline", transitions.size());
  publish(transitions, "sweep");
}

void PresenceTopic::publish(const std::vector<PresenceTransition>& transitions,
                            const char* source) {
  // The state in Redis moved already: a record that cannot be handed over is logged and the
  // rest still go (a consumer reconciles over the admin presence API, docs/design.md).
  for (auto& t : transitions) {
    try {
      publish_(std::to_string(t.user_id), presence_transition_json(t));
      metrics::presence_transition(t.online, source);
    } catch (const std::exception& e) {
      spdlog::error("presence: transition of user {} not produced: {}", t.user_id, e.what());
    }
  }
}

}  // namespace roomcast
