// Job's gateway over its seams: the live comets (NodeDirectory) and the routes (RouteLookup) are
// in memory, the comets are recording gRPC services on loopback ports. What reaches which comet
// is decided by the routes, widened to every live comet while they may be incomplete.
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>

#include "comet.grpc.pb.h"
#include "rpc/remote_comets.h"

namespace roomcast {
namespace {

class RecordingComet final : public comet::Comet::Service {
 public:
  RecordingComet() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~RecordingComet() override { server_->Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> rooms() {
    std::lock_guard lock(mutex_);
    return rooms_;
  }

  grpc::Status BroadcastRoom(grpc::ServerContext*, const comet::BroadcastRoomRequest* request,
                             comet::PushReply*) override {
    std::lock_guard lock(mutex_);
    for (auto& e : request->events()) rooms_.push_back(e.room_id());
    return grpc::Status::OK;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mutex_;
  std::vector<std::string> rooms_;
};

class FakeComets final : public NodeDirectory {
 public:
  std::vector<NodeInfo> nodes() const override { return nodes_; }
  void refresh() override { ++refreshes; }
  void add(const std::string& id, const RecordingComet& comet) {
    nodes_.push_back({"comet", id, comet.address(), "", 0});
  }
  int refreshes = 0;

 private:
  std::vector<NodeInfo> nodes_;
};

class FakeRoutes final : public RouteLookup {
 public:
  bool complete() override { return complete_; }
  std::vector<std::vector<std::string>> rooms(const std::vector<std::string>& ids) override {
    std::vector<std::vector<std::string>> out;
    for (auto& id : ids) out.push_back(room_comets[id]);
    return out;
  }
  std::vector<std::vector<std::string>> users(const std::vector<int64_t>& ids) override {
    return std::vector<std::vector<std::string>>(ids.size());
  }
  bool complete_ = true;
  std::map<std::string, std::vector<std::string>> room_comets;
};

struct JobSide {
  JobSide() : redis(RedisOptions{}), gateway(redis, comets, routes, channels, 1) {
    comets.add("c1", c1);
    comets.add("c2", c2);
  }
  void push_room_event(const std::string& room) {
    gateway.start();
    gateway.push_room_event(room, std::make_shared<const std::string>("{}"));
    gateway.flush();
  }
  RecordingComet c1, c2;
  FakeComets comets;
  FakeRoutes routes;
  RedisClient redis;  // used only to give up on a comet; never reached here
  ChannelPool channels;
  RemoteComets gateway;
};

using Rooms = std::vector<std::string>;

TEST(CometGatewayRoutes, ARoomEventGoesOnlyToTheCometsTheRoutesName) {
  JobSide job;
  job.routes.room_comets["r"] = {"c2"};
  job.push_room_event("r");
  EXPECT_EQ(job.c1.rooms(), Rooms{});
  EXPECT_EQ(job.c2.rooms(), Rooms{"r"});
}

TEST(CometGatewayRoutes, WhileTheRoutesMayBeIncompleteEveryLiveCometGetsIt) {
  JobSide job;
  job.routes.complete_ = false;  // Redis lost the routes; the comets are re-announcing
  job.routes.room_comets["r"] = {"c2"};
  job.push_room_event("r");
  EXPECT_EQ(job.c1.rooms(), Rooms{"r"});
  EXPECT_EQ(job.c2.rooms(), Rooms{"r"});
}

TEST(CometGatewayRoutes, ARouteToACometTheRegistryDoesNotKnowMakesItLookAgain) {
  JobSide job;
  job.routes.room_comets["r"] = {"c3", "c1"};  // c3: just registered, or gone
  job.push_room_event("r");
  EXPECT_GE(job.comets.refreshes, 1);
  EXPECT_EQ(job.c1.rooms(), Rooms{"r"});
  EXPECT_EQ(job.c2.rooms(), Rooms{});
}

}  // namespace
}  // namespace roomcast
