#include "rpc/channel_pool.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <unordered_set>

namespace roomcast {

namespace {
constexpr int kConnectAttemptMs = 20000;  // gRPC's default
}  // namespace

std::shared_ptr<grpc::Channel> ChannelPool::get(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto& ch = channels_[address];
  if (!ch) {
    grpc::ChannelArguments args;
    // gRPC's default reconnect backoff grows to 120 s: far too slow for a peer that restarts.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // Despite its name, this is how long one connection attempt (TCP, TLS, HTTP/2 settings) may
    // take. A busy peer (a comet with 16,000 connections on a loaded machine) needs more than a
    // backoff's worth: bounded by 100 ms, attempts never completed and Job gave up on every comet.
    // A peer that is down refuses at once, so restarts are still noticed within the backoff.
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kConnectAttemptMs);
    // Detect a peer that vanished without closing TCP (power loss, partition).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    if (tls_) args.SetSslTargetNameOverride(kInternalServerName);
    ch = grpc::CreateCustomChannel(address, credentials_, args);
  }
  return ch;
}

void ChannelPool::retain(const std::vector<std::string>& addresses) {
  std::unordered_set<std::string> keep(addresses.begin(), addresses.end());
  std::lock_guard lock(mutex_);
  std::erase_if(channels_, [&](auto& kv) { return !keep.count(kv.first); });
}

}  // namespace roomcast
