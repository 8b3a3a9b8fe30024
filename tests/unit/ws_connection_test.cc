// The WebSocket transport on its own (comet/ws_connection.h), over a real loopback socket with
// a handler that knows no chat: the upgrade, messages handed over in order, pings, both
// closing handshakes, a refused connection, the silence timeout and the outbound limit.
#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

#include "comet/ws_connection.h"

using namespace roomcast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using State = WsConnection::State;

namespace {

// Echoes each text message; refuses the connection at open when told to.
class EchoHandler final : public WsHandler {
 public:
  EchoHandler(tcp::socket socket, WsLoopContext& loop, bool accept)
      : accept_(accept), conn(*this, std::move(socket), "", loop) {}

  asio::awaitable<bool> on_open(const Request& request) override {
    opened = request[http::field::sec_websocket_key].size() == 24;
    if (!accept_) conn.close(1008, "refused");
    co_return accept_;
  }
  asio::awaitable<void> on_text(const std::string& message) override {
    texts.push_back(message);
    conn.send(make_text_frame("echo:" + message));
    co_return;
  }
  void on_closing(uint16_t code, const char*, bool by_peer) override {
    closing.emplace_back(code, by_peer);
  }
  void on_closed() override { ++closed; }

  bool opened = false;
  std::vector<std::string> texts;
  std::vector<std::pair<uint16_t, bool>> closing;
  int closed = 0;

 private:
  bool accept_;

 public:
  WsConnection conn;
};

// A masked client frame, as a browser sends it.
std::string client_frame(uint8_t opcode, std::string_view payload) {
  std::string f;
  f += static_cast<char>(0x80 | opcode);
  f += static_cast<char>(0x80 | payload.size());  // (short payloads only)
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  f.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ mask[i & 3]);
  return f;
}

std::string close_payload(uint16_t code) {
  return {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

struct ServerFrame {
  uint8_t opcode = 0;
  std::string payload;
  uint16_t close_code() const {
    return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                 static_cast<uint8_t>(payload[1]));
  }
};

class WsConnectionTest : public ::testing::Test {
 protected:
  // Connects a client, hands the server side to a new EchoHandler and starts it on the loop.
  void open(bool accept = true) {
    tcp::acceptor acceptor(ctx_, {asio::ip::make_address("127.0.0.1"), 0});
    client_.connect(acceptor.local_endpoint());
    handler_ = std::make_shared<EchoHandler>(acceptor.accept(), loop_, accept);
    WsHandler::Request request{http::verb::get, "/api/ws", 11};
    request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    request.set(http::field::sec_websocket_version, "13");
    asio::post(ctx_, [h = handler_, request]() mutable { h->conn.start(std::move(request)); });
    thread_ = std::thread([this] { ctx_.run(); });
    std::string head;
    asio::read_until(client_, asio::dynamic_buffer(head), "\r\n\r\n");
    ASSERT_NE(head.find("101 Switching Protocols"), std::string::npos) << head;
    // RFC 6455's own example key and answer.
    ASSERT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
    pending_ = head.substr(head.find("\r\n\r\n") + 4);
    // The answer is out before the connection finishes opening on its loop: wait for that.
    ASSERT_TRUE(eventually([&] { return handler_->opened; }));
  }

  void TearDown() override {
    work_.reset();
    ctx_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Runs `f` on the connection's loop and returns its result.
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(ctx_, [&task] { task(); });
    return result.get();
  }

  // Polls `pred` on the loop until it holds (the loop may still be finishing a step).
  template <class P>
  bool eventually(P pred) {
    for (int i = 0; i < 200; ++i) {
      if (on_loop(pred)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void send(const std::string& bytes) { asio::write(client_, asio::buffer(bytes)); }

  // Waits at most 5 s for the client socket to become readable (a test fails, never hangs).
  void await_readable() {
    pollfd p{client_.native_handle(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) throw std::runtime_error("nothing came from the server in 5 s");
  }

  void read_exactly(std::size_t n, std::string& out) {
    while (pending_.size() < n) {
      char buf[4096];
      await_readable();
      std::size_t got = client_.read_some(asio::buffer(buf));
      pending_.append(buf, got);
    }
    out = pending_.substr(0, n);
    pending_.erase(0, n);
  }

  ServerFrame read_frame() {
    std::string head;
    read_exactly(2, head);
    ServerFrame f;
    f.opcode = static_cast<uint8_t>(head[0]) & 0x0F;
    std::size_t n = static_cast<uint8_t>(head[1]) & 0x7F;
    if (n == 126) {
      std::string ext;
      read_exactly(2, ext);
      n = (static_cast<uint8_t>(ext[0]) << 8) | static_cast<uint8_t>(ext[1]);
    }
    read_exactly(n, f.payload);
    return f;
  }

  // True once the server has dropped the connection (EOF or reset).
  bool server_gone() {
    char c;
    boost::system::error_code ec;
    if (!pending_.empty()) return false;
    await_readable();
    client_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  Limits limits_;
  WsLoopContext loop_{limits_};
  asio::io_context ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      ctx_.get_executor()};
  tcp::socket client_{ctx_};
  std::shared_ptr<EchoHandler> handler_;
  std::thread thread_;
  std::string pending_;  // bytes read but not yet taken
};

}  // namespace

TEST_F(WsConnectionTest, HandsOverTextMessagesInOrder) {
  open();
  send(client_frame(kWsText, "one") + client_frame(kWsText, "two"));
  EXPECT_EQ(read_frame().payload, "echo:one");
  EXPECT_EQ(read_frame().payload, "echo:two");
  EXPECT_TRUE(on_loop([&] { return handler_->opened && handler_->conn.open(); }));
  EXPECT_EQ(on_loop([&] { return handler_->texts; }), (std::vector<std::string>{"one", "two"}));
}

TEST_F(WsConnectionTest, AnswersAPingWithItsPayload) {
  open();
  send(client_frame(kWsPing, "abc"));
  auto pong = read_frame();
  EXPECT_EQ(pong.opcode, kWsPong);
  EXPECT_EQ(pong.payload, "abc");
}

TEST_F(WsConnectionTest, EchoesThePeersCloseThenDropsTheConnection) {
  open();
  send(client_frame(kWsClose, close_payload(4321)));
  auto answer = read_frame();
  ASSERT_EQ(answer.opcode, kWsClose);
  EXPECT_EQ(answer.close_code(), 4321);
  EXPECT_TRUE(server_gone());
  EXPECT_TRUE(eventually([&] { return handler_->closed > 0; }));
  auto seen = on_loop(
      [&] { return std::make_tuple(handler_->closing, handler_->closed, handler_->conn.state()); });
  EXPECT_EQ(std::get<0>(seen), (std::vector<std::pair<uint16_t, bool>>{{4321, true}}));
  EXPECT_EQ(std::get<1>(seen), 1);  // on_closed once
  EXPECT_EQ(std::get<2>(seen), State::kClosed);
}

TEST_F(WsConnectionTest, ARefusedConnectionServesNoMessage) {
  open(false);
  auto close = read_frame();
  ASSERT_EQ(close.opcode, kWsClose);
  EXPECT_EQ(close.close_code(), 1008);
  send(client_frame(kWsText, "ignored") + client_frame(kWsClose, close_payload(1000)));
  EXPECT_TRUE(server_gone());  // our close answered: the handshake is complete
  EXPECT_TRUE(on_loop([&] { return handler_->texts.empty(); }));
}

TEST_F(WsConnectionTest, ABadFrameClosesWithTheParsersCode) {
  open();
  send(client_frame(kWsBinary, "x"));  // not in the protocol
  auto close = read_frame();
  ASSERT_EQ(close.opcode, kWsClose);
  EXPECT_EQ(close.close_code(), 1003);
  EXPECT_EQ(on_loop([&] { return handler_->conn.state(); }), State::kClosing);
}

TEST_F(WsConnectionTest, TicksPingThenCloseASilentPeerThenDropIt) {
  open();
  auto start = WsConnection::Clock::now();
  on_loop(
      [&] { handler_->conn.tick(start + std::chrono::milliseconds(limits_.ping_interval_ms)); });
  EXPECT_EQ(read_frame().opcode, kWsPing);
  auto silent = start + std::chrono::milliseconds(limits_.idle_timeout_ms + 1);
  on_loop([&] { handler_->conn.tick(silent); });
  auto close = read_frame();
  ASSERT_EQ(close.opcode, kWsClose);
  EXPECT_EQ(close.close_code(), 1001);
  // The peer never answers: the closing handshake times out.
  on_loop([&] { handler_->conn.tick(silent + std::chrono::seconds(6)); });
  EXPECT_TRUE(server_gone());
}

TEST_F(WsConnectionTest, PastTheOutboundLimitTheQueueGivesWayTo1013) {
  limits_.outbound_max_events = 2;
  open();
  on_loop([&] {
    handler_->conn.cork();
    for (int i = 0; i < 3; ++i) handler_->conn.send(make_text_frame("queued"));
    handler_->conn.uncork();
  });
  // The two queued frames were dropped for the close frame: a slow client resumes instead.
  auto close = read_frame();
  ASSERT_EQ(close.opcode, kWsClose);
  EXPECT_EQ(close.close_code(), 1013);
}

TEST_F(WsConnectionTest, CorkedFramesGoOutInOrderOnUncork) {
  open();
  on_loop([&] {
    EXPECT_TRUE(handler_->conn.cork());
    EXPECT_FALSE(handler_->conn.cork());  // corked already
    std::vector<Frame> frames{make_text_frame("a"), make_text_frame("b")};
    handler_->conn.send_many(frames);
    handler_->conn.send(make_text_frame("c"));
    handler_->conn.uncork();
  });
  EXPECT_EQ(read_frame().payload, "a");
  EXPECT_EQ(read_frame().payload, "b");
  EXPECT_EQ(read_frame().payload, "c");
}
