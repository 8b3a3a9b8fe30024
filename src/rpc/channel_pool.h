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

#include "rpc/internal_tls.h"

namespace roomcast {

// Safe to call from any thread.
class ChannelPool {
 public:
  // With `tls` enabled every channel is mutually authenticated (internal_tls.h).
  explicit ChannelPool(const InternalTls& tls = {})
      : credentials_(channel_credentials(tls)), tls_(tls.enabled()) {}
  std::shared_ptr<grpc::Channel> get(const std::string& address);
  // Keeps only the channels of these addresses (the live peers).
  void retain(const std::vector<std::string>& addresses);

 private:
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  bool tls_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace roomcast
