// One gRPC channel per peer address, shared by every call to that peer. Channels reconnect by
// themselves (with a short backoff, so a restarted peer is used again within about a second);
// the pool drops a channel when its peer leaves the registry.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace roomcast {

class ChannelPool {
 public:
  std::shared_ptr<grpc::Channel> get(const std::string& address);
  // Keeps only the channels of these addresses (the live peers).
  void retain(const std::vector<std::string>& addresses);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace roomcast
