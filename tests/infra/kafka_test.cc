// Kafka producer/consumer against roomcast-kafka-mock (3 brokers), with faults injected through
// its control port (see src/tools/kafka_mock.cc).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "queue.pb.h"
#include "queue/kafka_queue.h"
#include "queue/record_codec.h"
#include "test_env.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using test::unique;

// Sends one control line to the mock and returns its answer.
std::string mock_control(const std::string& line) {
  auto addr_s = test::env("ROOMCAST_KAFKA_CONTROL");
  auto colon = addr_s.rfind(':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(addr_s.substr(colon + 1))));
  inet_pton(AF_INET, addr_s.substr(0, colon).c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "error connect";
  }
  std::string msg = line + "\n";
  if (write(fd, msg.data(), msg.size()) < 0) return "error write";
  std::string reply;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') reply += c;
  close(fd);
  return reply;
}

// A fresh topic per test, created through the mock's control port (the mock does not implement
// CreateTopics; the adapters find it in the metadata and skip creating it).
KafkaOptions options(const std::string& topic) {
  EXPECT_EQ(mock_control("topic " + topic + " 8"), "ok");
  KafkaOptions o;
  o.brokers = test::env("ROOMCAST_KAFKA_BROKERS");
  o.topic = topic;
  o.group = unique("g");
  o.partitions = 8;
  o.session_timeout_ms = 6000;  // the mock ignores LeaveGroup: keep takeovers short
  o.heartbeat_interval_ms = 2000;
  o.message_timeout_ms = 30000;
  o.batch_window_ms = 20;
  return o;
}

QueueRecord chat(const std::string& room, int n) {
  QueueRecord r;
  r.type = PushKind::kChat;
  r.room_id = room;
  r.message = {room, 0, 7, "eve", std::to_string(n), n, "", room + ":" + std::to_string(n)};
  return r;
}

// Collects what a consumer's handler sees.
struct Sink {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<QueueRecord> records;
  int calls = 0;
  bool mixed_rooms_partition = false;

  std::size_t most_rooms_in_a_call = 0;

  void add(std::span<const QueueRecord> batch) {
    std::lock_guard lock(mutex);
    ++calls;
    std::set<std::string> rooms;
    for (auto& r : batch) {
      records.push_back(r);
      if (!r.room_id.empty()) rooms.insert(r.room_id);  // keyless pushes: any partition
    }
    most_rooms_in_a_call = std::max(most_rooms_in_a_call, rooms.size());
    changed.notify_all();
  }
  bool wait_for(std::size_t n, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return records.size() >= n; });
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return records.size();
  }
};

TEST(RecordCodec, RoundTrip) {
  QueueRecord r;
  r.type = PushKind::kUsers;
  r.op = 42;
  r.room_id = "room";
  r.user_ids = {1, 2, 3};
  r.body = std::string("{\"x\":1}\0\xff", 9);
  r.origin_conn = 0xFEDCBA9876543210ULL;
  r.trace_id = TraceId{0x0123456789abcdefULL};
  auto back = decode_record(encode_record(r));
  EXPECT_EQ(back.type, r.type);
  EXPECT_EQ(back.op, r.op);
  EXPECT_EQ(back.room_id, r.room_id);
  EXPECT_EQ(back.user_ids, r.user_ids);
  EXPECT_EQ(back.body, r.body);
  EXPECT_EQ(back.origin_conn, r.origin_conn);
  EXPECT_EQ(back.trace_id, r.trace_id);
  r.trace_id = {};
  EXPECT_FALSE(decode_record(encode_record(r)).trace_id);
  for (auto t : {PushKind::kChat, PushKind::kRoom, PushKind::kBroadcast, PushKind::kMembership}) {
    r.type = t;
    EXPECT_EQ(decode_record(encode_record(r)).type, t);
  }
  EXPECT_THROW(decode_record("\xff\xff\xff"), RecordCodecError);
}

void expect_same_message(const StoredMessage& a, const StoredMessage& b) {
  EXPECT_EQ(a.room_id, b.room_id);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.username, b.username);
  EXPECT_EQ(a.content, b.content);
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms);
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.dedup_key, b.dedup_key);
}

TEST(RecordCodec, ChatMessageRoundTrips) {
  QueueRecord r;
  r.room_id = "room";
  r.message = {"room", 0, 9, "name", "content \xF0\x9F\x98\x80", 1234567890123, "cid", "9:c:cid"};
  r.event_id = 77;
  auto back = decode_record(encode_record(r));
  EXPECT_EQ(back.type, PushKind::kChat);
  EXPECT_EQ(back.event_id, 77u);
  expect_same_message(back.message, r.message);
}

// A chat record written before queue.Record.message (flat fields) still decodes: such records
// can be in the topic while the version changes.
TEST(RecordCodec, LegacyChatRecordDecodes) {
  queue::Record old;
  old.set_type(queue::Record::CHAT);
  old.set_room_id("room");
  old.set_legacy_sender_id(9);
  old.set_legacy_sender_name("name");
  old.set_legacy_content("hello");
  old.set_legacy_client_id("cid");
  old.set_legacy_timestamp_ms(1234);
  old.set_dedup_key("9:c:cid");
  auto back = decode_record(old.SerializeAsString());
  expect_same_message(back.message, {"room", 0, 9, "name", "hello", 1234, "cid", "9:c:cid"});
}

// A membership change says joined in its own field; older versions said it with op 1.
TEST(RecordCodec, MembershipJoinedRoundTripsAndLegacyOpDecodes) {
  QueueRecord r;
  r.type = PushKind::kMembership;
  r.room_id = "room";
  r.user_ids = {4};
  r.joined_room = true;
  EXPECT_TRUE(decode_record(encode_record(r)).joined_room);
  r.joined_room = false;
  EXPECT_FALSE(decode_record(encode_record(r)).joined_room);
  queue::Record old;
  old.set_type(queue::Record::MEMBERSHIP);
  old.set_op(1);
  EXPECT_TRUE(decode_record(old.SerializeAsString()).joined_room);
  old.set_op(0);
  EXPECT_FALSE(decode_record(old.SerializeAsString()).joined_room);
}

TEST(RecordCodec, RelayedNoticeFieldsRoundTrip) {
  QueueRecord r;
  r.type = PushKind::kRoom;
  r.room_id = "room";
  r.origin_comet = "comet-1";
  r.exclude_user = 77;
  r.joined = {{1, "ann"}, {2, "bob"}};
  r.left = {{3, "\xff not utf-8"}};
  auto back = decode_record(encode_record(r));
  EXPECT_EQ(back.origin_comet, r.origin_comet);
  EXPECT_EQ(back.exclude_user, r.exclude_user);
  ASSERT_EQ(back.joined.size(), 2u);
  EXPECT_EQ(back.joined[1].id, 2);
  EXPECT_EQ(back.joined[1].username, "bob");
  ASSERT_EQ(back.left.size(), 1u);
  EXPECT_EQ(back.left[0].username, r.left[0].username);
  // A record of an older producer has none of them.
  auto plain = decode_record(encode_record(QueueRecord{}));
  EXPECT_TRUE(plain.origin_comet.empty() && plain.joined.empty() && plain.left.empty());
}

TEST(Kafka, OrderPerRoomAndCommitAfterHandler) {
  REQUIRE_SERVERS();
  auto o = options(unique("t-order-"));
  KafkaProducer producer(o);
  // Interleaved rooms over several calls; keyless pushes spread over partitions.
  std::vector<std::string> rooms = {"ra", "rb", "rc", "rd"};
  for (int round = 0; round < 5; ++round) {
    std::vector<QueueRecord> batch;
    for (int i = 0; i < 20; ++i)
      for (auto& room : rooms) batch.push_back(chat(room, round * 20 + i));
    QueueRecord push;
    push.type = PushKind::kBroadcast;
    push.body = "b" + std::to_string(round);
    batch.push_back(push);
    producer.produce(std::move(batch));
  }

  Sink sink;
  std::atomic<int> assigned{0};
  std::atomic<bool> failed_once{false};
  {
    KafkaConsumer consumer(o, [&] { ++assigned; });
    consumer.start([&](std::span<const QueueRecord> batch) {
      // The first batch fails: it must come again, from the same offset.
      if (!failed_once.exchange(true)) throw std::runtime_error("injected handler failure");
      sink.add(batch);
    });
    ASSERT_TRUE(sink.wait_for(405, 30s)) << sink.size();
    std::this_thread::sleep_for(300ms);
    consumer.stop();
  }
  EXPECT_GE(assigned, 1);
  EXPECT_EQ(sink.size(), 405u);  // exactly once each: nothing lost, the failed batch redelivered
  std::map<std::string, int> next;
  int pushes = 0;
  for (auto& r : sink.records) {
    if (r.type == PushKind::kBroadcast) {
      ++pushes;
      continue;
    }
    EXPECT_EQ(r.message.content, std::to_string(next[r.room_id])) << r.room_id;
    next[r.room_id] = std::stoi(r.message.content) + 1;
    EXPECT_EQ(r.message.username, "eve");
  }
  EXPECT_EQ(pushes, 5);
  for (auto& room : rooms) EXPECT_EQ(next[room], 100);
  // A round's partitions reach the handler in one call (one persist, one push round for all):
  // the four rooms hash to four partitions (0, 6, 2, 3), and all records were there before the
  // consumer started.
  EXPECT_GT(sink.most_rooms_in_a_call, 1u);

  // A new member of the group resumes from the committed offsets: only the new records.
  producer.produce({chat("ra", 100), chat("rb", 100)});
  Sink second;
  KafkaConsumer consumer(o);
  consumer.start([&](std::span<const QueueRecord> batch) { second.add(batch); });
  ASSERT_TRUE(second.wait_for(2, 40s));
  std::this_thread::sleep_for(1s);
  consumer.stop();
  ASSERT_EQ(second.size(), 2u);
  for (auto& r : second.records) EXPECT_EQ(r.message.content, "100");
}

TEST(Kafka, ProducerRidesOutBrokerDownAndInjectedErrors) {
  REQUIRE_SERVERS();
  auto o = options(unique("t-faults-"));
  KafkaProducer producer(o);
  producer.produce({chat("warm", 0)});  // metadata known, idempotent producer id assigned

  // Retriable errors on Produce: retried without duplicates.
  ASSERT_EQ(mock_control("errors 3"), "ok");
  std::vector<QueueRecord> first;
  for (int i = 0; i < 30; ++i) first.push_back(chat("r" + std::to_string(i % 6), i));
  producer.produce(first);

  // A broker down: produce() waits (leaders do not move in the mock) and completes once it is
  // back; nothing is lost.
  ASSERT_EQ(mock_control("down 1"), "ok");
  std::atomic<bool> produced{false};
  std::thread t([&] {
    std::vector<QueueRecord> second;
    for (int i = 30; i < 90; ++i) second.push_back(chat("r" + std::to_string(i % 6), i));
    producer.produce(second);
    produced = true;
  });
  std::this_thread::sleep_for(2s);
  ASSERT_EQ(mock_control("up 1"), "ok");
  t.join();
  EXPECT_TRUE(produced);

  Sink sink;
  KafkaConsumer consumer(o);
  consumer.start([&](std::span<const QueueRecord> batch) { sink.add(batch); });
  ASSERT_TRUE(sink.wait_for(91, 40s)) << sink.size();
  std::this_thread::sleep_for(500ms);
  consumer.stop();
  std::set<std::string> keys;
  std::map<std::string, int> last;
  for (auto& r : sink.records) {
    EXPECT_TRUE(keys.insert(r.message.dedup_key).second) << "duplicate " << r.message.dedup_key;
    int n = std::stoi(r.message.content);
    if (last.count(r.room_id)) {
      EXPECT_GT(n, last[r.room_id]) << r.room_id;
    }
    last[r.room_id] = n;
  }
  EXPECT_EQ(keys.size(), 91u);
}

TEST(Kafka, ProduceFailsAfterMessageTimeout) {
  REQUIRE_SERVERS();
  auto o = options(unique("t-timeout-"));
  o.message_timeout_ms = 1500;
  KafkaProducer producer(o);
  producer.produce({chat("x", 0)});
  for (int b = 1; b <= 3; ++b) ASSERT_EQ(mock_control("down " + std::to_string(b)), "ok");
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(producer.produce({chat("x", 1), chat("y", 1)}), QueueError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  for (int b = 1; b <= 3; ++b) ASSERT_EQ(mock_control("up " + std::to_string(b)), "ok");
}

}  // namespace
}  // namespace roomcast
