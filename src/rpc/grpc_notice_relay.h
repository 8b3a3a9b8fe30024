// The comet's NoticeRelay in the distributed mode: notices are queued and sent to a Logic by
// one thread, everything queued meanwhile in one Relay call, so neither the I/O loops nor the
// blocking pool ever wait for them. Logic queues them (room partition) and Job pushes them to
// the comets holding the room or user, except this one. Lost notices are not retried.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "comet/notice_relay.h"
#include "logic.pb.h"
#include "rpc/grpc_logic_client.h"

namespace roomcast {

class GrpcNoticeRelay final : public NoticeRelay {
 public:
  GrpcNoticeRelay(GrpcLogicClient& logic, std::string comet_id);
  ~GrpcNoticeRelay() override;
  // start() and stop() from the thread that owns the relay; stop() drops what is queued.
  void start();
  void stop();

  // NoticeRelay: any thread, never blocks.
  void room_notice(const std::string& room_id, const std::string& event,
                   int64_t except_user) override;
  void user_notice(int64_t user_id, const std::string& room_id, const std::string& event) override;
  void presence_changes(const std::string& room_id, std::vector<User> joined,
                        std::vector<User> left) override;

 private:
  void add(logic::Notice notice);
  void run();
  void send(std::vector<logic::Notice>& notices);

  GrpcLogicClient& logic_;
  std::string comet_id_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<logic::Notice> pending_;
  uint64_t dropped_ = 0;  // past the queue's cap since the last warning
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace roomcast
