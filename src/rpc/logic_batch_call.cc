// GrpcLogicClient's ReceiveBatch calls: gRPC's callback API, so no thread waits on a call. A
// call keeps its batcher slot through its retries; the retry rules are those of
// GrpcLogicClient::call, per event: an event whose messages all carry a clientId is retried after
// UNAVAILABLE or DEADLINE_EXCEEDED (Job drops a repeat), any other only when the call provably
// never left (its channel was not connected).
#include <grpcpp/alarm.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "rpc/grpc_logic_client.h"

namespace roomcast {

namespace pb = roomcast::logic;
using namespace std::chrono_literals;

namespace {

constexpr int kAttempts = 3;
constexpr int kNodeWaits = 10;  // with no Logic registered, look again this often (200 ms apart)
constexpr auto kDeadline = 5s;

std::exception_ptr failed(const std::string& why) {
  return std::make_exception_ptr(std::runtime_error("Receive(messages) failed: " + why));
}

std::exception_ptr outcome_of(const pb::ReceiveResult& r) {
  switch (r.outcome()) {
    case pb::ReceiveResult::OK:
      return nullptr;
    case pb::ReceiveResult::CLIENT_ERROR:
      return std::make_exception_ptr(
          ClientError(r.error().code(), r.error().message(), r.error().retry_after_ms()));
    default:
      return failed("the queue is unavailable");
  }
}

}  // namespace

// Lives on the heap from start_batch until every event is answered, then deletes itself. Runs on
// the thread that started it, then on gRPC's callback threads, one step at a time.
class GrpcLogicClient::BatchCall {
 public:
  BatchCall(GrpcLogicClient& client, std::vector<BatchedEvent> events)
      : client_(client), batcher_(*client.batcher_), events_(std::move(events)) {
    request_.mutable_events()->Reserve(static_cast<int>(events_.size()));
    for (auto& ev : events_) request_.mutable_events()->Add(std::move(ev.request));
  }

  // One attempt on the next live Logic. Touches nothing after starting the call: its callback
  // may run (and delete this) at once.
  void attempt() {
    try {
      peer_ = client_.pick(attempt_, false);
    } catch (const std::exception& e) {
      // No Logic registered right now: nothing was sent. Look again shortly, as pick() would.
      if (++node_waits_ <= kNodeWaits) return later(200ms);
      return finish(std::vector<std::exception_ptr>(events_.size(), failed(e.what())));
    }
    was_ready_ = peer_.channel->GetState(true) == GRPC_CHANNEL_READY;
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(std::chrono::system_clock::now() + kDeadline);
    stub_ = pb::Logic::NewStub(peer_.channel);
    reply_.Clear();
    stub_->async()->ReceiveBatch(ctx_.get(), &request_, &reply_,
                                 [this](grpc::Status status) { on_reply(status); });
  }

 private:
  // A fresh alarm each time: this may run inside the previous one's callback.
  void later(std::chrono::milliseconds delay) {
    alarms_.push_back(std::make_unique<grpc::Alarm>());
    alarms_.back()->Set(std::chrono::system_clock::now() + delay, [this](bool) { attempt(); });
  }

  void on_reply(const grpc::Status& status) {
    if (status.ok()) {
      if (reply_.results_size() != static_cast<int>(events_.size()))
        return finish(std::vector<std::exception_ptr>(events_.size(), failed("bad reply")));
      std::vector<std::exception_ptr> outcomes;
      outcomes.reserve(events_.size());
      for (auto& r : reply_.results()) outcomes.push_back(outcome_of(r));
      return finish(std::move(outcomes));
    }
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      pb::ClientError err;
      auto error = err.ParseFromString(status.error_details())
                       ? ClientError(err.code(), err.message(), err.retry_after_ms())
                       : ClientError("BAD_REQUEST", status.error_message());
      return finish(
          std::vector<std::exception_ptr>(events_.size(), std::make_exception_ptr(error)));
    }
    retry_or_fail(status);
  }

  // Answers the events that may not be sent again; retries the others after a backoff.
  void retry_or_fail(const grpc::Status& status) {
    bool unavailable = status.error_code() == grpc::StatusCode::UNAVAILABLE;
    bool expired = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (unavailable || expired) client_.mark_bad(peer_.id);
    bool last = attempt_ + 1 >= kAttempts;
    auto error = failed(status.error_message());
    pb::ReceiveBatchRequest kept;
    std::vector<BatchedEvent> kept_events;
    for (std::size_t i = 0; i < events_.size(); ++i) {
      bool retry =
          !last && (events_[i].keyed ? (unavailable || expired) : (unavailable && !was_ready_));
      if (!retry) {
        events_[i].done(error);
        continue;
      }
      kept.mutable_events()->Add(std::move(*request_.mutable_events(static_cast<int>(i))));
      kept_events.push_back(std::move(events_[i]));
    }
    spdlog::warn("logic client: ReceiveBatch of {} events on {} failed ({}: {}); {} retried",
                 events_.size(), peer_.id, static_cast<int>(status.error_code()),
                 status.error_message(), kept_events.size());
    events_ = std::move(kept_events);
    request_ = std::move(kept);
    if (events_.empty()) return finish({});
    ++attempt_;
    later(50ms * (1 << (attempt_ - 1)));
  }

  // Frees the batcher slot first (what piled up goes out now), then answers and goes away.
  void finish(std::vector<std::exception_ptr> outcomes) {
    batcher_.finished();
    for (std::size_t i = 0; i < outcomes.size(); ++i) events_[i].done(std::move(outcomes[i]));
    delete this;
  }

  GrpcLogicClient& client_;
  LogicBatcher& batcher_;             // outlives its calls: its destructor waits for them
  std::vector<BatchedEvent> events_;  // their requests are in request_, same order
  pb::ReceiveBatchRequest request_;
  pb::ReceiveBatchReply reply_;
  int attempt_ = 0;
  int node_waits_ = 0;
  Peer peer_;
  bool was_ready_ = false;
  std::unique_ptr<pb::Logic::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::vector<std::unique_ptr<grpc::Alarm>> alarms_;
};

void GrpcLogicClient::start_batch(std::vector<BatchedEvent> events) {
  (new BatchCall(*this, std::move(events)))->attempt();
}

}  // namespace roomcast
