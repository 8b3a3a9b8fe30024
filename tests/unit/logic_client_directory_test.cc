// The comet's Logic client over its registry seam: the live Logic nodes come from an in-memory
// NodeDirectory, the Logics are gRPC services on loopback ports that answer Connect.
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "logic.grpc.pb.h"
#include "rpc/grpc_logic_client.h"

namespace roomcast {
namespace {

// Answers Connect with user 7 "ann", or UNAVAILABLE when `down`.
class FakeLogic final : public logic::Logic::Service {
 public:
  explicit FakeLogic(bool down = false) : down_(down) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeLogic() override { server_->Shutdown(); }
  NodeInfo node(const std::string& id) const {
    return {"logic", id, "127.0.0.1:" + std::to_string(port_), "", 0};
  }
  grpc::Status Connect(grpc::ServerContext*, const logic::ConnectRequest*,
                       logic::ConnectReply* reply) override {
    ++calls;
    if (down_) return {grpc::StatusCode::UNAVAILABLE, "restarting"};
    reply->set_ok(true);
    reply->mutable_user()->set_id(7);
    reply->mutable_user()->set_username("ann");
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};

 private:
  bool down_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// Lists `later` from the `appear_at`-th refresh on (none before).
class FakeLogics final : public NodeDirectory {
 public:
  std::vector<NodeInfo> nodes() const override {
    std::lock_guard lock(mutex_);
    return listed_;
  }
  void refresh() override {
    std::lock_guard lock(mutex_);
    if (++refreshes == appear_at) listed_ = later;
  }
  std::vector<NodeInfo> later;
  int appear_at = 1;
  int refreshes = 0;

 private:
  mutable std::mutex mutex_;
  std::vector<NodeInfo> listed_;
};

TEST(LogicClientDirectory, AskTheRegistryAgainUntilALogicRegisters) {
  FakeLogic logic;
  FakeLogics logics;
  logics.later = {logic.node("l1")};
  logics.appear_at = 3;  // two refreshes find nothing yet
  ChannelPool channels;
  GrpcLogicClient client(logics, channels, "comet-1", {});
  auto user = client.authenticate("sid");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->id, 7);
  EXPECT_EQ(user->username, "ann");
  EXPECT_EQ(logics.refreshes, 3);
}

TEST(LogicClientDirectory, WithoutAnyLogicTheCallFailsAfterAskingAgain) {
  FakeLogics logics;
  logics.appear_at = 0;  // never
  ChannelPool channels;
  GrpcLogicClient client(logics, channels, "comet-1", {});
  EXPECT_THROW(client.authenticate("sid"), std::runtime_error);
  EXPECT_GT(logics.refreshes, 1);
}

TEST(LogicClientDirectory, AnIdempotentCallGoesToAnotherLogicWhenOneIsUnavailable) {
  FakeLogic down(true), up;
  FakeLogics logics;
  logics.later = {down.node("l1"), up.node("l2")};
  ChannelPool channels;
  GrpcLogicClient client(logics, channels, "comet-1", {});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(client.authenticate("sid")->id, 7);
  EXPECT_EQ(up.calls, 4);
  EXPECT_LE(down.calls, 1);  // marked bad after its first failure, then skipped
}

}  // namespace
}  // namespace roomcast
