// ChannelPool's channels against a peer that is slow to complete the connection handshake (a
// busy node: here a proxy that holds every new connection for 1.5 s before passing bytes on).
// A connection attempt must be given longer than that, or the channel never becomes ready
// while the peer stays busy (seen with 100,000 connections on six comets: Job gave up on every
// comet and a broadcast was lost).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "comet.grpc.pb.h"
#include "rpc/channel_pool.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;

int listen_loopback(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot listen on loopback");
  port = ntohs(a.sin_port);
  return fd;
}

// Copies bytes both ways until either side closes.
void pipe_both_ways(int a, int b) {
  char buf[16384];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (poll(fds, 2, 2000) > 0) {
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0 || write(fds[1 - i].fd, buf, static_cast<std::size_t>(n)) != n) return;
    }
  }
}

// Accepts connections and forwards each to `target_port` after `delay`.
class SlowProxy {
 public:
  SlowProxy(int target_port, std::chrono::milliseconds delay) {
    listener_ = listen_loopback(port_);
    thread_ = std::thread([this, target_port, delay] {
      for (;;) {
        int client = accept(listener_, nullptr, nullptr);
        if (client < 0 || stopping_) break;
        workers_.emplace_back([client, target_port, delay] {
          std::this_thread::sleep_for(delay);
          int server = socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in a{};
          a.sin_family = AF_INET;
          a.sin_port = htons(static_cast<uint16_t>(target_port));
          a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          if (connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
            pipe_both_ways(client, server);
          close(server);
          close(client);
        });
      }
    });
  }
  ~SlowProxy() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    thread_.join();
    for (auto& w : workers_) w.join();
    close(listener_);
  }
  int port() const { return port_; }

 private:
  int listener_ = -1, port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

TEST(ChannelPool, ConnectsToAPeerWhoseHandshakeIsSlowerThanTheReconnectBackoff) {
  roomcast::comet::Comet::Service unimplemented;  // any service: the server needs one
  grpc::ServerBuilder builder;
  builder.RegisterService(&unimplemented);
  int server_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &server_port);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server && server_port > 0);
  {
    // Longer than the longest reconnect backoff (1 s): an attempt bounded by the backoff
    // would time out every time.
    SlowProxy proxy(server_port, 1500ms);
    ChannelPool pool;
    auto channel = pool.get("127.0.0.1:" + std::to_string(proxy.port()));
    auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + 6s))
        << "the channel never became ready: each connection attempt gave up too early";
    EXPECT_GE(std::chrono::steady_clock::now() - started, 1400ms);
    pool.retain({});
    channel.reset();
  }
  server->Shutdown(std::chrono::system_clock::now() + 1s);
}

}  // namespace
}  // namespace roomcast
